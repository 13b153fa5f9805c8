import { Alert, App, Button, Space, Table, Tag, Tooltip, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { connectionsApi } from '../api/console-api';
import type { Connection, ConnectionTest } from '../api/console-types';
import { errorText } from '../components/common';
import { formatWallClock } from '../lib/time.util';
import { useCan } from '../session';

const STATUS_COLOR: Record<Connection['status'], string> = {
  ok: 'green',
  failing: 'red',
  unknown: 'default',
};

/** A test's outcome, as the page shows it next to the button. */
function TestResult({ test }: { test: ConnectionTest }) {
  const { t } = useTranslation();
  if (!test.result)
    return (
      <Tag color="processing" data-testid="connection-test-result">
        {t('connections.testQueued')}
      </Tag>
    );
  return test.result.ok ? (
    <Tag color="green" data-testid="connection-test-result">
      {t('connections.testOk', { ms: test.result.ms })}
    </Tag>
  ) : (
    <Tooltip title={test.result.error}>
      <Tag color="red" data-testid="connection-test-result" data-error={test.result.error}>
        {t('connections.testFailed')}: {test.result.errorKind}
      </Tag>
    </Tooltip>
  );
}

export function ConnectionsPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const canTest = useCan('admin');
  const [items, setItems] = useState<Connection[]>([]);
  const [error, setError] = useState<string>();
  const [testing, setTesting] = useState<string>();
  const [results, setResults] = useState<Record<string, ConnectionTest>>({});
  const load = useCallback(
    () =>
      void connectionsApi
        .list()
        .then((list) => {
          setItems(list);
          setError(undefined);
        })
        .catch((e) => setError(errorText(e))),
    [],
  );
  useEffect(() => {
    load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, [load]);

  const test = async (c: Connection) => {
    const key = `${c.kind}:${c.name}`;
    setTesting(key);
    try {
      const result = await connectionsApi.test(c.kind, c.name);
      setResults((r) => ({ ...r, [key]: result }));
      load();
    } catch (e) {
      void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    } finally {
      setTesting(undefined);
    }
  };

  return (
    <>
      <Typography.Paragraph type="secondary">{t('connections.intro')}</Typography.Paragraph>
      {error && <Alert type="error" message={error} style={{ marginBottom: 12 }} />}
      <Table<Connection>
        data-testid="connections-table"
        rowKey={(c) => `${c.kind}:${c.name}`}
        size="small"
        pagination={false}
        dataSource={items}
        scroll={{ x: 'max-content' }}
        onRow={(c) =>
          ({ 'data-testid': `connection-row-${c.kind}-${c.name}` }) as React.HTMLAttributes<HTMLElement>
        }
        columns={[
          {
            title: t('connections.name'),
            dataIndex: 'name',
            render: (n: string) => <Typography.Text strong>{n}</Typography.Text>,
          },
          {
            title: t('connections.kind'),
            dataIndex: 'kind',
            render: (k: Connection['kind']) => (
              <Tag color={k === 'wdt' ? 'blue' : 'purple'}>{t(`connections.kinds.${k}`)}</Tag>
            ),
          },
          {
            title: t('connections.account'),
            render: (_, c) => (
              <Tooltip title={c.url}>
                <Typography.Text code>{c.kind === 'wdt' ? c.sid : c.account}</Typography.Text>
              </Tooltip>
            ),
          },
          {
            title: t('connections.status'),
            dataIndex: 'status',
            render: (s: Connection['status'], c) => (
              <Tooltip title={c.since ? `${t('connections.since')} ${formatWallClock(c.since)}` : undefined}>
                <Tag color={STATUS_COLOR[s]} data-testid="connection-status">
                  {t(`connections.statuses.${s}`)}
                </Tag>
              </Tooltip>
            ),
          },
          {
            title: t('connections.lastError'),
            dataIndex: 'lastError',
            render: (v: string | null) =>
              v ? (
                <Typography.Text type="danger" style={{ maxWidth: 340 }} ellipsis={{ tooltip: v }}>
                  {v}
                </Typography.Text>
              ) : (
                '—'
              ),
          },
          {
            title: t('connections.schemes'),
            dataIndex: 'schemes',
            render: (ids: string[]) =>
              ids.length === 0 ? (
                <Typography.Text type="secondary">{t('connections.unused')}</Typography.Text>
              ) : (
                <Space direction="vertical" size={0}>
                  {ids.map((id) => (
                    <Link key={id} to={`/schemes/${id}`}>
                      {id}
                    </Link>
                  ))}
                </Space>
              ),
          },
          {
            title: t('connections.test'),
            render: (_, c) => {
              const key = `${c.kind}:${c.name}`;
              const shown = results[key];
              return (
                <Space>
                  <Button
                    size="small"
                    data-testid="connection-test"
                    disabled={!canTest}
                    loading={testing === key}
                    onClick={() => void test(c)}
                  >
                    {t('connections.test')}
                  </Button>
                  {shown && <TestResult test={shown} />}
                </Space>
              );
            },
          },
        ]}
      />
    </>
  );
}
