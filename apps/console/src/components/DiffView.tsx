import type { RouteDiff } from '../api/types';
import { show } from './ui';

/** What turns one route version into another, in words and per field. */
export function DiffView({ diff }: { diff: Pick<RouteDiff, 'added' | 'removed' | 'changed'> & Partial<Pick<RouteDiff, 'from' | 'to'>> }) {
  const none = !diff.added.length && !diff.removed.length && !diff.changed.length;
  return (
    <div className="diff" data-testid="diff">
      {diff.from !== undefined && diff.to !== undefined && (
        <p>
          From version {diff.from} to version {diff.to}: {diff.added.length} added, {diff.removed.length} removed, {diff.changed.length} changed.
        </p>
      )}
      {none && <p>No differences: both versions have the same routes.</p>}
      <RouteList title="Added" className="added" sign="+" routes={diff.added} />
      <RouteList title="Removed" className="removed" sign="−" routes={diff.removed} />
      {diff.changed.length > 0 && (
        <>
          <h4>Changed</h4>
          <ul>
            {diff.changed.map((c) => (
              <li key={c.id}>
                <code>{c.id}</code>
                <ul>
                  {Object.entries(c.fields).map(([field, change]) => (
                    <li key={field}>
                      {field}: <del>{show(change.from)}</del> → <ins>{show(change.to)}</ins>
                    </li>
                  ))}
                </ul>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** The routes one side of a diff has alone; nothing when there are none. */
function RouteList({ title, className, sign, routes }: { title: string; className: string; sign: string; routes: RouteDiff['added'] }) {
  if (routes.length === 0) return null;
  return (
    <>
      <h4>{title}</h4>
      <ul>
        {routes.map((r) => (
          <li key={r.id} className={className}>
            {sign} <code>{r.id}</code> {show(r.methods)} {r.path} → {r.upstream}
          </li>
        ))}
      </ul>
    </>
  );
}
