/** A polite "loading" line, announced once, for panels whose data is on its way. */
export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}
