import { useEffect, useState } from 'preact/hooks';

/**
 * Calls load now and every ms after the last answer, keeping the newest
 * answer and error; refresh() loads again at once (after a change made on
 * the page). A new call aborts the old one.
 */
export function usePoll<T>(load: (signal: AbortSignal) => Promise<T>, ms: number): { data: T | null; err: string; setErr: (e: string) => void; refresh: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [err, setErr] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    const ac = new AbortController();
    load(ac.signal).then(
      (x) => {
        setData(x);
        setErr('');
      },
      (e) => !ac.signal.aborted && setErr(e.message || String(e)),
    );
    const t = setTimeout(() => setTick((n) => n + 1), ms);
    return () => {
      ac.abort();
      clearTimeout(t);
    };
  }, [tick]);
  return { data, err, setErr, refresh: () => setTick((n) => n + 1) };
}
