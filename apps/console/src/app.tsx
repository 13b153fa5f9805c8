import { App as AntApp, Button, ConfigProvider, Layout, Menu, Space, Spin, Tag, Typography } from 'antd';
import enUS from 'antd/locale/en_US';
import zhCN from 'antd/locale/zh_CN';
import dayjs from 'dayjs';
import 'dayjs/locale/zh-cn';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { sessionApi } from './api/console-api';
import type { Session } from './api/console-types';
import { setCsrfToken, setUnauthorizedHandler } from './api/http';
import { setLanguage, type Language } from './i18n';
import { ConnectionsPage } from './pages/connections-page';
import { OrderPage } from './pages/order-page';
import { OrdersPage } from './pages/orders-page';
import { OverviewPage } from './pages/overview-page';
import { RepairPage } from './pages/repair-page';
import { ReconcilePage } from './pages/reconcile-page';
import { ReconcileRunPage } from './pages/reconcile-run-page';
import { SchemeEditorPage } from './pages/scheme-editor-page';
import { SchemesPage } from './pages/schemes-page';
import { SignInPage } from './pages/sign-in-page';
import { SessionContext } from './session';
import './styles.css';

/** The session (`GET /api/session`: the cookie, or a dev proxy's bearer token); null when signed out. */
async function loadSession(): Promise<Session | null> {
  try {
    return await sessionApi.get();
  } catch {
    return null;
  }
}

export function App() {
  const { t, i18n } = useTranslation();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const navigate = useNavigate();
  const location = useLocation();
  const language = i18n.language as Language;
  dayjs.locale(language === 'en' ? 'en' : 'zh-cn');

  const accept = useCallback((s: Session | null) => {
    setCsrfToken(s?.csrfToken || null);
    setSession(s);
  }, []);

  useEffect(() => {
    setUnauthorizedHandler(() => accept(null));
    void loadSession().then(accept);
  }, [accept]);

  const signOut = useCallback(() => {
    void sessionApi
      .signOut()
      .catch(() => undefined)
      .finally(() => {
        accept(null);
        navigate('/');
      });
  }, [accept, navigate]);

  let body: React.ReactNode;
  if (session === undefined) body = <Spin style={{ margin: 80 }} />;
  else if (session === null) body = <SignInPage onSignedIn={accept} />;
  else {
    const selected = `/${location.pathname.split('/')[1] || ''}`;
    body = (
      <SessionContext.Provider value={{ session, signOut }}>
        <Layout style={{ minHeight: '100vh' }}>
          <Layout.Header style={{ display: 'flex', alignItems: 'center', gap: 16, paddingInline: 20 }}>
            <Typography.Text strong style={{ color: '#fff', whiteSpace: 'nowrap' }}>
              {t('app.title')}
            </Typography.Text>
            <Menu
              theme="dark"
              mode="horizontal"
              data-testid="nav-menu"
              selectedKeys={[selected === '/' ? '/' : selected]}
              style={{ flex: 1, minWidth: 0 }}
              onClick={({ key }) => navigate(key)}
              items={[
                { key: '/', label: <span data-testid="nav-overview">{t('menu.overview')}</span> },
                { key: '/orders', label: <span data-testid="nav-orders">{t('menu.orders')}</span> },
                { key: '/repair', label: <span data-testid="nav-repair">{t('menu.repair')}</span> },
                { key: '/schemes', label: <span data-testid="nav-schemes">{t('menu.schemes')}</span> },
                {
                  key: '/reconciliations',
                  label: <span data-testid="nav-reconcile">{t('menu.reconcile')}</span>,
                },
                {
                  key: '/connections',
                  label: <span data-testid="nav-connections">{t('menu.connections')}</span>,
                },
              ]}
            />
            <Space>
              <Typography.Text style={{ color: '#fff' }} data-testid="session-name">
                {session.name}
              </Typography.Text>
              <Tag data-testid="session-role">{t(`role.${session.role}`)}</Tag>
              <Button
                size="small"
                data-testid="language-switch"
                onClick={() => setLanguage(language === 'en' ? 'zh-CN' : 'en')}
              >
                {t('app.language')}
              </Button>
              <Button size="small" data-testid="sign-out" onClick={signOut}>
                {t('app.signOut')}
              </Button>
            </Space>
          </Layout.Header>
          <Layout.Content className="page-content">
            <Routes>
              <Route path="/" element={<OverviewPage />} />
              <Route path="/orders" element={<OrdersPage />} />
              <Route path="/orders/:orderNo" element={<OrderPage />} />
              <Route path="/repair" element={<RepairPage />} />
              <Route path="/schemes" element={<SchemesPage />} />
              <Route path="/schemes/:id" element={<SchemeEditorPage />} />
              <Route path="/reconciliations" element={<ReconcilePage />} />
              <Route path="/reconciliations/:id" element={<ReconcileRunPage />} />
              <Route path="/connections" element={<ConnectionsPage />} />
              <Route path="*" element={<Navigate to="/" replace />} />
            </Routes>
          </Layout.Content>
        </Layout>
      </SessionContext.Provider>
    );
  }
  return (
    <ConfigProvider locale={language === 'en' ? enUS : zhCN}>
      <AntApp>{body}</AntApp>
    </ConfigProvider>
  );
}
