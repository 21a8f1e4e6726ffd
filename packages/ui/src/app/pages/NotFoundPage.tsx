/** Any URL the app does not know. */
import { Link, paths } from '../router.tsx';
import { useTitle } from '../use-title.ts';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at this address. <Link to={paths.home()}>Go to your domains</Link>.
      </p>
    </>
  );
}
