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
      {diff.added.length > 0 && (
        <>
          <h4>Added</h4>
          <ul>
            {diff.added.map((r) => (
              <li key={r.id} className="added">
                + <code>{r.id}</code> {show(r.methods)} {r.path} → {r.upstream}
              </li>
            ))}
          </ul>
        </>
      )}
      {diff.removed.length > 0 && (
        <>
          <h4>Removed</h4>
          <ul>
            {diff.removed.map((r) => (
              <li key={r.id} className="removed">
                − <code>{r.id}</code> {show(r.methods)} {r.path} → {r.upstream}
              </li>
            ))}
          </ul>
        </>
      )}
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
