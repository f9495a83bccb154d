import type { PartialAnswer } from './api';

/** Says that results lack records, and which sources (parts, indexers) they lack. */
export function PartialBanner({ partial }: { partial: PartialAnswer }) {
  return (
    <div class="banner error" role="alert" data-testid="partial-banner">
      <b>Partial results:</b> {partial.reason}.
      <ul class="skipped">
        {partial.skipped.map((s) => (
          <li key={s.kind + s.partition + s.name} class="mono small">
            {s.kind} {s.partition ? `${s.partition}/` : ''}
            {s.name}: {s.error}
          </li>
        ))}
      </ul>
    </div>
  );
}
