import { Alert, Button, Card, Form, Input } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { sessionApi } from '../api/console-api';
import type { Session } from '../api/console-types';
import { setLanguage } from '../i18n';

export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const { t, i18n } = useTranslation();
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async ({ token }: { token: string }) => {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await sessionApi.signIn(token.trim()));
    } catch {
      setError(t('signIn.failed'));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div style={{ display: 'flex', justifyContent: 'center', paddingTop: 120 }}>
      <Card
        title={t('signIn.title')}
        style={{ width: 420 }}
        extra={
          <Button
            size="small"
            type="link"
            onClick={() => setLanguage(i18n.language === 'en' ? 'zh-CN' : 'en')}
          >
            {t('app.language')}
          </Button>
        }
      >
        <Form layout="vertical" onFinish={submit}>
          <Form.Item
            name="token"
            label={t('signIn.token')}
            extra={t('signIn.tokenHint')}
            rules={[{ required: true }]}
          >
            <Input.Password data-testid="signin-token" autoFocus />
          </Form.Item>
          {error && (
            <Alert type="error" message={error} data-testid="signin-error" style={{ marginBottom: 12 }} />
          )}
          <Button type="primary" htmlType="submit" loading={busy} block data-testid="signin-submit">
            {t('signIn.submit')}
          </Button>
        </Form>
      </Card>
    </div>
  );
}
