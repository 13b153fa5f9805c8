import { Alert, App, Button, Card, Descriptions, Input, Space, Table, Tabs, Tag, Typography } from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { reconcileApi } from '../api/console-api';
import type { FindingKind, ReconcileFinding, ReconcileRun } from '../api/console-types';
import { OrderStatusTag, errorText } from '../components/common';
import {
  FINDING_KINDS,
  KIND_COLOURS,
  REPUSHABLE,
  findingTotal,
  isOpen,
  trailContradiction,
} from '../lib/reconcile.util';
import { formatTime } from '../lib/time.util';
import { useCan } from '../session';
import { CountTags, RunProgress, RunStateTag } from './reconcile-page';

const PAGE = 100;

export function ReconcileRunPage() {
  const { id = '' } = useParams();
  const { t } = useTranslation();
  const { message } = App.useApp();
  const canAct = useCan('operator');
  const [run, setRun] = useState<ReconcileRun | null>(null);
  const [kind, setKind] = useState<FindingKind | 'all'>('all');
  const [q, setQ] = useState('');
  const [offset, setOffset] = useState(0);
  const [findings, setFindings] = useState<{ items: ReconcileFinding[]; total: number }>({
    items: [],
    total: 0,
  });
  const [selected, setSelected] = useState<ReconcileFinding[]>([]);
  const [loadError, setLoadError] = useState<string | null>(null);

  const load = useCallback(async () => {
    try {
      const r = await reconcileApi.run(id);
      setRun(r);
      setLoadError(null);
      if (r.state === 'done')
        setFindings(
          await reconcileApi.findings(id, {
            kind: kind === 'all' ? undefined : kind,
            q: q || undefined,
            limit: PAGE,
            offset,
          }),
        );
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, [id, kind, q, offset]);
  useEffect(() => {
    void load();
  }, [load]);
  // Follow an open run, and re-pushes on their way, every 2 s.
  const following =
    isOpen(run) || findings.items.some((f) => f.repushState === 'requested' || f.repushState === 'running');
  useEffect(() => {
    if (!following) return;
    const timer = setInterval(() => void load(), 2000);
    return () => clearInterval(timer);
  }, [following, load]);

  const repush = async (body: { kinds?: string[]; keys?: string[] }) => {
    try {
      const r = await reconcileApi.repush(id, body);
      void message.success(t('reconcile.repushRequested', { count: r.requested }));
      setSelected([]);
      void load();
    } catch (e) {
      void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    }
  };
  const cancel = async () => {
    try {
      setRun(await reconcileApi.cancel(id));
    } catch (e) {
      void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    }
  };

  if (loadError && !run) return <Alert type="error" showIcon message={loadError} />;
  if (!run) return null;
  const counts = run.counts;

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Card
        size="small"
        title={
          <Space wrap>
            <Link to="/reconciliations">{t('reconcile.title')}</Link>
            <span>/</span>
            <Typography.Text strong>{run.schemeId}</Typography.Text>
            <RunStateTag run={run} />
          </Space>
        }
        extra={
          run.state === 'done' ? (
            <Space>
              <Button href={reconcileApi.exportUrl(id, 'xlsx')} data-testid="reconcile-export-xlsx">
                {t('reconcile.exportXlsx')}
              </Button>
              <Button href={reconcileApi.exportUrl(id, 'csv')} data-testid="reconcile-export-csv">
                {t('reconcile.exportCsv')}
              </Button>
            </Space>
          ) : isOpen(run) ? (
            <Button danger disabled={!canAct} onClick={() => void cancel()} data-testid="reconcile-cancel">
              {t('reconcile.cancelRun')}
            </Button>
          ) : null
        }
      >
        <Descriptions size="small" column={{ xs: 1, sm: 2, lg: 3 }} data-testid="reconcile-run">
          <Descriptions.Item label={t('reconcile.period')}>
            {run.periodFrom} – {run.periodTo}
          </Descriptions.Item>
          <Descriptions.Item label={t('reconcile.trigger')}>
            {t(`reconcile.triggers.${run.trigger}`)}
          </Descriptions.Item>
          <Descriptions.Item label={t('reconcile.requestedBy')}>{run.requestedBy}</Descriptions.Item>
          <Descriptions.Item label={t('reconcile.requestedAt')}>
            {formatTime(run.requestedAt)}
          </Descriptions.Item>
          <Descriptions.Item label={t('reconcile.finishedAt')}>
            {formatTime(run.finishedAt)}
          </Descriptions.Item>
          <Descriptions.Item label={t('reconcile.progress')}>
            {t('reconcile.progressText', {
              orders: run.progress.sourceOrders ?? 0,
              wdtCalls: run.progress.wdtCalls ?? 0,
              bills: run.progress.targetBills ?? 0,
              kingdeeCalls: run.progress.kingdeeCalls ?? 0,
              keys: run.progress.keysCompared ?? 0,
            })}
          </Descriptions.Item>
        </Descriptions>
        {isOpen(run) ? <RunProgress run={run} withText={false} /> : null}
        {run.error ? (
          <Alert
            type={run.state === 'failed' ? 'error' : 'warning'}
            showIcon
            message={`${t('reconcile.error')}: ${run.error}`}
            data-testid="reconcile-run-error"
          />
        ) : null}
        {counts ? (
          <div style={{ marginTop: 8 }}>
            <CountTags run={run} />
          </div>
        ) : null}
      </Card>
      {run.state === 'done' ? (
        <Card size="small">
          {counts && findingTotal(counts) === 0 ? (
            <Alert type="success" showIcon message={t('reconcile.everythingMatched')} />
          ) : (
            <>
              <Alert type="info" showIcon message={t('reconcile.needsPerson')} style={{ marginBottom: 12 }} />
              <Tabs
                activeKey={kind}
                onChange={(k) => {
                  setKind(k as FindingKind | 'all');
                  setOffset(0);
                  setSelected([]);
                }}
                items={[
                  {
                    key: 'all',
                    label: (
                      <span data-testid="reconcile-tab-all">{`${t('common.all')} ${findingTotal(counts)}`}</span>
                    ),
                  },
                  ...FINDING_KINDS.map((k) => ({
                    key: k,
                    label: (
                      <span data-testid={`reconcile-tab-${k}`}>
                        {t(`reconcile.kinds.${k}`)} {counts?.[k] ?? 0}
                      </span>
                    ),
                  })),
                ]}
              />
              <Space wrap style={{ marginBottom: 12 }}>
                <Input.Search
                  allowClear
                  placeholder={t('reconcile.search')}
                  style={{ width: 280 }}
                  data-testid="reconcile-search"
                  onSearch={(v) => {
                    setQ(v.trim());
                    setOffset(0);
                  }}
                />
                <Button
                  disabled={!canAct || selected.length === 0}
                  onClick={() => void repush({ keys: selected.map((f) => f.key) })}
                  data-testid="reconcile-repush-selected"
                >
                  {t('reconcile.repushSelected')}
                </Button>
                <Button
                  type="primary"
                  disabled={!canAct || !counts?.missing_in_erp}
                  onClick={() => void repush({ kinds: ['missing_in_erp'] })}
                  data-testid="reconcile-repush-missing"
                >
                  {t('reconcile.repushMissing')}
                </Button>
              </Space>
              <Table<ReconcileFinding>
                data-testid="reconcile-findings-table"
                rowKey={(f) => `${f.kind}:${f.key}`}
                size="small"
                dataSource={findings.items}
                scroll={{ x: 'max-content' }}
                onRow={(f) =>
                  ({ 'data-testid': `reconcile-finding-${f.kind}` }) as React.HTMLAttributes<HTMLElement>
                }
                rowSelection={
                  canAct
                    ? {
                        selectedRowKeys: selected.map((f) => `${f.kind}:${f.key}`),
                        getCheckboxProps: (f) => ({
                          disabled: !REPUSHABLE.includes(f.kind) || f.repushState === 'requested',
                        }),
                        onChange: (_keys, rows) => setSelected(rows),
                      }
                    : undefined
                }
                pagination={{
                  current: offset / PAGE + 1,
                  pageSize: PAGE,
                  total: findings.total,
                  showSizeChanger: false,
                  onChange: (page) => setOffset((page - 1) * PAGE),
                }}
                columns={[
                  {
                    title: t('reconcile.title'),
                    dataIndex: 'kind',
                    render: (k: FindingKind) => (
                      <Tag color={KIND_COLOURS[k]}>{t(`reconcile.kinds.${k}`)}</Tag>
                    ),
                  },
                  { title: t('reconcile.key'), dataIndex: 'key' },
                  {
                    title: t('reconcile.orderNo'),
                    dataIndex: 'orderNo',
                    render: (o: string | null) =>
                      o ? (
                        <Link to={`/orders/${encodeURIComponent(o)}`} data-testid="reconcile-order-link">
                          {o}
                        </Link>
                      ) : (
                        '—'
                      ),
                  },
                  {
                    title: t('reconcile.bills'),
                    dataIndex: 'billNumbers',
                    render: (bills: string[], f) =>
                      bills.length === 0 ? (
                        '—'
                      ) : (
                        <Space size={[2, 2]} wrap style={{ maxWidth: 220 }}>
                          {bills.map((b, i) => (
                            <Tag key={`${b}-${i}`}>
                              {b}
                              {f.bills[i] ? ` · ${f.bills[i].documentStatus}` : ''}
                            </Tag>
                          ))}
                        </Space>
                      ),
                  },
                  {
                    title: t('reconcile.cause'),
                    dataIndex: 'cause',
                    render: (c: string | null) => (c ? t(`reconcile.causes.${c}`, { defaultValue: c }) : '—'),
                  },
                  {
                    title: t('reconcile.trailStatus'),
                    dataIndex: 'trailStatus',
                    render: (s: string | null) => (s ? <OrderStatusTag status={s} /> : '—'),
                  },
                  {
                    title: t('reconcile.differences'),
                    dataIndex: 'differences',
                    render: (ds: ReconcileFinding['differences'], f) =>
                      ds.length > 0 ? (
                        <Space direction="vertical" size={0} data-testid="reconcile-differences">
                          {ds.map((d) => (
                            <Typography.Text key={d.field} style={{ whiteSpace: 'nowrap' }}>
                              <Typography.Text code>{d.field}</Typography.Text> {d.expected ?? '∅'} →{' '}
                              <Typography.Text type="danger">{d.actual ?? '∅'}</Typography.Text>
                            </Typography.Text>
                          ))}
                        </Space>
                      ) : f.detail ? (
                        <Typography.Text
                          type="secondary"
                          style={{ maxWidth: 360, display: 'inline-block' }}
                          title={f.detail}
                        >
                          {(() => {
                            const said = trailContradiction(f);
                            return said
                              ? t(said.key, { status: t(`status.${f.trailStatus}`), bills: said.bills })
                              : f.detail;
                          })()}
                        </Typography.Text>
                      ) : (
                        '—'
                      ),
                  },
                  {
                    title: t('reconcile.repush'),
                    dataIndex: 'repushState',
                    render: (s: string | null, f) =>
                      s ? (
                        <Space direction="vertical" size={0} style={{ maxWidth: 360 }}>
                          <Tag
                            data-testid="reconcile-repush-state"
                            color={
                              s === 'done'
                                ? 'success'
                                : s === 'refused' || s === 'failed'
                                  ? 'error'
                                  : 'processing'
                            }
                          >
                            {t(`reconcile.repushStates.${s}`)}
                          </Tag>
                          {f.repushResult ? (
                            <Typography.Text type="secondary" style={{ fontSize: 12 }}>
                              {f.repushResult}
                            </Typography.Text>
                          ) : null}
                        </Space>
                      ) : (
                        '—'
                      ),
                  },
                ]}
                locale={{ emptyText: t('reconcile.noFindings') }}
              />
            </>
          )}
        </Card>
      ) : null}
    </Space>
  );
}
