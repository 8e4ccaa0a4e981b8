/**
 * The tenant's sign-in policy for admins (issue 16 §3): "require two-factor sign-in of admins and heads of
 * sales". Rendered on /settings/security (LocksPage).
 */
import { useEffect, useState } from 'react';
import type { Me } from '../../api';
import { ErrorMessage } from '../../components/ErrorMessage';
import { useI18n } from '../../i18n';
import { mfaApi, type SecurityPolicy } from './mfa-api';

export function PolicyPanel({ me }: { me: Me }) {
  const { t } = useI18n();
  const admin = me.scopes.includes('identity:admin');
  const [policy, setPolicy] = useState<SecurityPolicy | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const [n, setN] = useState(0);

  useEffect(() => {
    if (!admin) return;
    const ctl = new AbortController();
    mfaApi.policy(ctl.signal).then(
      (p) => {
        setPolicy(p);
        setError(null);
      },
      (err: unknown) => !ctl.signal.aborted && setError(err),
    );
    return () => ctl.abort();
  }, [admin, n]);

  if (!admin) return null;

  const change = async (require: boolean) => {
    const before = policy;
    setBusy(true);
    setSaved(false);
    setError(null);
    // The switch moves at once; a refusal puts it back.
    setPolicy({ require_second_factor_for_privileged: require });
    try {
      setPolicy(await mfaApi.updatePolicy({ require_second_factor_for_privileged: require }));
      setSaved(true);
    } catch (err) {
      setPolicy(before);
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="panel" aria-labelledby="policy-title" data-testid="security-policy">
      <h2 id="policy-title">{t('security.mfa.policyTitle')}</h2>
      {error !== null && <ErrorMessage error={error} onRetry={() => setN((x) => x + 1)} testId="security-policy-error" />}
      {policy && (
        <>
          <label className="check">
            <input
              type="checkbox"
              role="switch"
              checked={policy.require_second_factor_for_privileged}
              disabled={busy}
              aria-describedby="policy-hint"
              onChange={(e) => change(e.target.checked)}
              data-testid="security-policy-require"
            />
            {t('security.mfa.policyRequire')}
          </label>
          <p id="policy-hint" className="hint">
            {t('security.mfa.policyHint')}
          </p>
        </>
      )}
      {saved && (
        <p className="muted" role="status" data-testid="security-policy-saved">
          {t('security.mfa.policySaved')}
        </p>
      )}
    </section>
  );
}
