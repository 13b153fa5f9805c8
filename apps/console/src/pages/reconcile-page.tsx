import {
  Alert,
  App,
  Button,
  Card,
  DatePicker,
  Form,
  Progress,
  Select,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate } from 'react-router-dom';
import { reconcileApi } from '../api/console-api';
import type { ReconcileRun, SchemeReconciliation } from '../api/console-types';
import { ApiError } from '../api/http';
import { errorText } from '../components/common';
import { COUNT_KINDS, KIND_COLOURS, isOpen, runPercent, yesterdayShanghai } from '../lib/reconcile.util';
import { formatTime } from '../lib/time.util';
import { useCan } from '../session';

/** Counts per class as tags; classes with nothing are muted so the ones to act on stand out. */
export function CountTags({ run }: { run: ReconcileRun | null }) {
  const { t } = useTranslation();
  if (!run?.counts) return <Typography.Text type="secondary">—</Typography.Text>;
  const counts = run.counts;
  return (
    <Space size={[4, 4]} wrap>
      {COUNT_KINDS.map((kind) => (
        <Tag
          key={kind}
          data-testid={`reconcile-count-${kind}`}
          color={counts[kind] > 0 || kind === 'matched' ? KIND_COLOURS[kind] : undefined}
          style={counts[kind] > 0 || kind === 'matched' ? undefined : { opacity: 0.5 }}
        >
          {t(`reconcile.kinds.${kind}`)} {counts[kind]}
        </Tag>
      ))}
    </Space>
  );
}

export function RunStateTag({ run }: { run: ReconcileRun }) {
  const { t } = useTranslation();
  const colour = {
    queued: 'default',
    running: 'processing',
    done: 'success',
    failed: 'error',
    cancelled: 'warning',
  }[run.state];
  return (
    <Tag color={colour} data-testid="reconcile-run-state">
      {t(`reconcile.states.${run.state}`)}
    </Tag>
  );
}

export function RunProgress({ run, withText = true }: { run: ReconcileRun; withText?: boolean }) {
  const { t } = useTranslation();
  const p = run.progress;
  return (
    <Space direction="vertical" size={0} style={{ width: '100%' }} data-testid="reconcile-progress">
      <Progress percent={runPercent(run)} size="small" status="active" />
      {withText ? (
        <Typography.Text type="secondary" style={{ fontSize: 12 }}>
          {p.phase ? `${t(`reconcile.phase.${p.phase}`)} · ` : ''}
          {t('reconcile.progressText', {
            orders: p.sourceOrders ?? 0,
            wdtCalls: p.wdtCalls ?? 0,
            bills: p.targetBills ?? 0,
            kingdeeCalls: p.kingdeeCalls ?? 0,
            keys: p.keysCompared ?? 0,
          })}
        </Typography.Text>
      ) : null}
    </Space>
  );
}

export function ReconcilePage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const navigate = useNavigate();
  const canAct = useCan('operator');
  const [rows, setRows] = useState<SchemeReconciliation[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [form] = Form.useForm<{ schemeId: string; range: [Dayjs, Dayjs] }>();

  const load = useCallback(async () => {
    try {
      setRows(await reconcileApi.latest());
    } catch (e) {
      void message.error(errorText(e));
    }
  }, [message]);
  useEffect(() => {
    void load();
  }, [load]);
  // While a run is queued or running, follow it every 2 s; otherwise refresh now and then.
  const anyOpen = rows.some((r) => isOpen(r.latest));
  useEffect(() => {
    const timer = setInterval(() => void load(), anyOpen ? 2000 : 15_000);
    return () => clearInterval(timer);
  }, [load, anyOpen]);

  const [from, to] = yesterdayShanghai(Date.now());
  const submit = async (v: { schemeId: string; range: [Dayjs, Dayjs] }) => {
    setError(null);
    try {
      const run = await reconcileApi.request({
        schemeId: v.schemeId,
        from: v.range[0].format('YYYY-MM-DD HH:mm:ss'),
        to: v.range[1].format('YYYY-MM-DD HH:mm:ss'),
      });
      navigate(`/reconciliations/${run.id}`);
    } catch (e) {
      setError(e instanceof ApiError ? e.message : errorText(e));
    }
  };

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Typography.Paragraph type="secondary" style={{ marginBottom: 0 }}>
        {t('reconcile.intro')}
      </Typography.Paragraph>
      <Card size="small" title={t('reconcile.title')}>
        <Table<SchemeReconciliation>
          data-testid="reconcile-schemes"
          rowKey="schemeId"
          size="small"
          pagination={false}
          dataSource={rows}
          tableLayout="fixed"
          onRow={() => ({ 'data-testid': 'reconcile-scheme-row' }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              title: t('reconcile.scheme'),
              dataIndex: 'schemeId',
              width: 300,
              render: (id: string, r) => (
                <Space direction="vertical" size={0}>
                  <Typography.Text strong>{r.schemeName ?? id}</Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                    {id}
                  </Typography.Text>
                  <Typography.Text type="secondary" style={{ fontSize: 12 }} data-testid="reconcile-schedule">
                    {t('reconcile.schedule')}:{' '}
                    {r.schedule?.enabled
                      ? t('reconcile.scheduleText', {
                          cron: r.schedule.cron,
                          timezone: r.schedule.timezone,
                          days: r.schedule.days,
                        })
                      : t('reconcile.scheduleOff')}
                  </Typography.Text>
                </Space>
              ),
            },
            {
              title: t('reconcile.latest'),
              width: 300,
              render: (_: unknown, r) =>
                r.latest ? (
                  <Space direction="vertical" size={2} style={{ width: '100%' }}>
                    <Space size={4} wrap>
                      <RunStateTag run={r.latest} />
                      <Tag>{t(`reconcile.triggers.${r.latest.trigger}`)}</Tag>
                      <Link to={`/reconciliations/${r.latest.id}`} data-testid="reconcile-open-latest">
                        {t('reconcile.open')}
                      </Link>
                    </Space>
                    <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                      {r.latest.periodFrom} – {r.latest.periodTo}
                    </Typography.Text>
                    {isOpen(r.latest) ? <RunProgress run={r.latest} /> : null}
                    {r.latest.state === 'failed' && r.latest.error ? (
                      <Typography.Text type="danger" style={{ fontSize: 12 }}>
                        {r.latest.error}
                      </Typography.Text>
                    ) : null}
                  </Space>
                ) : (
                  <Typography.Text type="secondary">{t('reconcile.never')}</Typography.Text>
                ),
            },
            {
              title: t('reconcile.lastDone'),
              render: (_: unknown, r) =>
                r.lastDone ? (
                  <Space direction="vertical" size={2}>
                    <Space size={8} wrap>
                      <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                        {r.lastDone.periodFrom} – {r.lastDone.periodTo} · {formatTime(r.lastDone.finishedAt)}
                      </Typography.Text>
                      {r.lastDone.id !== r.latest?.id ? (
                        <Link to={`/reconciliations/${r.lastDone.id}`} data-testid="reconcile-open-done">
                          {t('reconcile.open')}
                        </Link>
                      ) : null}
                    </Space>
                    <CountTags run={r.lastDone} />
                  </Space>
                ) : (
                  '—'
                ),
            },
          ]}
        />
      </Card>
      <Card size="small" title={t('reconcile.request')}>
        <Typography.Paragraph type="secondary">{t('reconcile.requestHint')}</Typography.Paragraph>
        <Form
          form={form}
          layout="inline"
          disabled={!canAct}
          onFinish={(v) => void submit(v)}
          initialValues={{ range: [dayjs(from), dayjs(to)] }}
          data-testid="reconcile-request-form"
        >
          <Form.Item name="schemeId" label={t('reconcile.scheme')} rules={[{ required: true }]}>
            <Select
              style={{ minWidth: 280 }}
              data-testid="reconcile-request-scheme"
              options={rows.filter((r) => r.schedule).map((r) => ({ value: r.schemeId, label: r.schemeId }))}
            />
          </Form.Item>
          <Form.Item name="range" label={t('reconcile.period')} rules={[{ required: true }]}>
            <DatePicker.RangePicker showTime data-testid="reconcile-request-range" />
          </Form.Item>
          <Form.Item>
            <Button type="primary" htmlType="submit" data-testid="reconcile-request-submit">
              {t('reconcile.submit')}
            </Button>
          </Form.Item>
        </Form>
        {!canAct ? <Typography.Text type="secondary">{t('common.noPermission')}</Typography.Text> : null}
        {error ? <Alert type="error" showIcon message={error} style={{ marginTop: 12 }} /> : null}
      </Card>
    </Space>
  );
}
