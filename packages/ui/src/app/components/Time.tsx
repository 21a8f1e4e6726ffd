/** A timestamp shown in the viewer's time zone, with the exact value kept in the markup. */
import { formatTime } from '../format.ts';

export function Time({ value }: { value: string | undefined }) {
  if (!value) return <span className="muted">—</span>;
  return (
    <time dateTime={value} title={value}>
      {formatTime(value)}
    </time>
  );
}
