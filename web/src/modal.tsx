import type { ComponentChildren } from 'preact';
import { useEffect } from 'preact/hooks';

/** A dialog over the page: Escape, Close or a click beside it closes it. */
export function Modal({ label, title, cls, onClose, children }: { label: string; title: string; cls: string; onClose: () => void; children: ComponentChildren }) {
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => e.key === 'Escape' && onClose();
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div class="modal-back" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div class={'modal ' + cls} role="dialog" aria-label={label}>
        <div class="modal-head">
          <div class="modal-title">{title}</div>
          <button class="btn" type="button" onClick={onClose}>
            Close
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}
