import { App, Button, Space, Table, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { readApi, schemeApi } from '../api/console-api';
import type { SchemeListItem } from '../api/console-types';
import { SchemeStatusTag, errorText, useReasonPrompt } from '../components/common';
import { schemeRunStatus } from '../lib/status.util';
import { formatDuration, formatWallClock } from '../lib/time.util';
import { useCan } from '../session';

export function SchemesPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const canAct = useCan('operator');
  const [ask, prompt] = useReasonPrompt();
  const [items, setItems] = useState<SchemeListItem[]>([]);
  const load = useCallback(
    () =>
      void readApi
        .schemes()
        .then(setItems)
        .catch(() => undefined),
    [],
  );
  useEffect(() => {
    load();
    const timer = setInterval(load, 10_000);
    return () => clearInterval(timer);
  }, [load]);

  const toggle = async (s: SchemeListItem) => {
    const reason = await ask(s.paused ? t('schemes.resumeReason') : t('schemes.pauseReason'));
    if (!reason) return;
    try {
      await (s.paused ? schemeApi.resume(s.id, reason) : schemeApi.pause(s.id, reason));
      void message.success(t('common.done'));
      load();
    } catch (e) {
      void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    }
  };

  return (
    <>
      {prompt}
      <Table<SchemeListItem>
        data-testid="schemes-table"
        rowKey="id"
        size="small"
        pagination={false}
        dataSource={items}
        scroll={{ x: 'max-content' }}
        onRow={(s) => ({ 'data-testid': `scheme-row-${s.id}` }) as React.HTMLAttributes<HTMLElement>}
        columns={[
          {
            title: t('schemes.name'),
            dataIndex: 'name',
            render: (n: string, s) => <Link to={`/schemes/${s.id}`}>{n}</Link>,
          },
          { title: t('overview.status'), render: (_, s) => <SchemeStatusTag status={schemeRunStatus(s)} /> },
          {
            title: t('overview.cursor'),
            render: (_, s) => (s.cursor ? formatWallClock(s.cursor.value) : '—'),
          },
          {
            title: t('overview.lag'),
            dataIndex: 'lagSeconds',
            render: (v: number | null) => formatDuration(v),
          },
          {
            title: t('overview.lastError'),
            dataIndex: 'lastError',
            width: 320,
            ellipsis: true,
            render: (v: string | null) => (v ? <Typography.Text type="danger">{v}</Typography.Text> : '—'),
          },
          {
            title: t('common.actions'),
            render: (_, s) => (
              <Space>
                <Button
                  size="small"
                  data-testid={s.paused ? 'scheme-resume' : 'scheme-pause'}
                  disabled={!canAct}
                  onClick={() => void toggle(s)}
                >
                  {s.paused ? t('schemes.resume') : t('schemes.pause')}
                </Button>
                <Link to={`/schemes/${s.id}`} data-testid="scheme-edit">
                  {t('schemes.edit')}
                </Link>
              </Space>
            ),
          },
        ]}
      />
    </>
  );
}
