import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { Session } from './auth/session';
import { BASE_PATH, loadConfig } from './config';
import { App } from './App';
import { messageOf } from './api/problem';
import './styles.css';

/** Signed out, or coming back from identity: the sign-in step. */
function Root({ session, completion }: { session: Session; completion: Promise<string> | null }) {
  const [signedIn, setSignedIn] = useState(session.signedIn);
  const [error, setError] = useState<string | null>(null);
  const callback = completion !== null;

  useEffect(() => session.onChange(() => setSignedIn(session.signedIn)), [session]);
  useEffect(() => {
    if (!completion) return;
    let live = true;
    completion.then(
      (returnTo) => {
        history.replaceState(null, '', returnTo.startsWith(BASE_PATH) ? returnTo : `${BASE_PATH}/routes`);
        if (live) setSignedIn(true);
      },
      (err: unknown) => {
        history.replaceState(null, '', `${BASE_PATH}/`);
        if (live) setError(messageOf(err));
      },
    );
    return () => {
      live = false;
    };
  }, [completion]);

  if (signedIn) return <App session={session} />;
  if (callback && !error) return <p className="centered">Signing in…</p>;
  const returnTo = location.pathname.startsWith(`${BASE_PATH}/`) && location.pathname !== `${BASE_PATH}/` ? location.pathname : `${BASE_PATH}/routes`;
  return (
    <main className="sign-in" id="main">
      <h1>Cloud Stack console</h1>
      <p>Routes, upstream health, policy decisions and the audit trail of the gateway.</p>
      {error && (
        <p className="message error" role="alert">
          {error}
        </p>
      )}
      <button type="button" className="primary" onClick={() => void session.signIn(returnTo)}>
        Sign in with Cloud Stack identity
      </button>
      <p className="hint">You sign in on identity&apos;s own page ({session.config.identityUrl}); the console never sees your password.</p>
    </main>
  );
}

// The callback's code is single-use: it is redeemed once here, outside React, whose StrictMode
// runs effects twice in development.
void loadConfig().then((config) => {
  const session = new Session(config);
  const completion = location.pathname === `${BASE_PATH}/callback` ? session.completeSignIn(new URLSearchParams(location.search)) : null;
  createRoot(document.getElementById('root')!).render(
    <StrictMode>
      <Root session={session} completion={completion} />
    </StrictMode>,
  );
});
