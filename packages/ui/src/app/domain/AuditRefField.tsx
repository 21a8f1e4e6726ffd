/** Audit-enabled domains need a justification (Y-Audit-Ref) with each change: one field for the whole tab. */
import { TextField } from '../components/Field.tsx';

export function AuditRefField({ value, onChange }: { value: string; onChange(v: string): void }) {
  return (
    <div className="card audit">
      <TextField label="Justification for changes" required value={value} onChange={(e) => onChange(e.target.value)} hint="This domain is audit-enabled: ZMS records this reference with every change you make here (for example a ticket id)." />
    </div>
  );
}
