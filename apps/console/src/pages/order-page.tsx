import {
  App,
  Alert,
  Button,
  Card,
  Collapse,
  Descriptions,
  Empty,
  Space,
  Spin,
  Table,
  Tabs,
  Timeline,
  Typography,
} from 'antd';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router-dom';
import { readApi, repairApi } from '../api/console-api';
import type { AuditOrderDetail, AuditOrderWithSnapshots, HistoryItem } from '../api/console-types';
import { JsonView, OrderStatusTag, errorText, useReasonPrompt } from '../components/common';
import { formatTime } from '../lib/time.util';
import { useCan } from '../session';

/** The latest Kingdee reply: the contract's `lastReply`, else the newest attempt in the history. */
function latestReply(order: AuditOrderWithSnapshots, history: HistoryItem[]) {
  if (order.lastReply) return order.lastReply;
  const attempt = history.find((h) => h.schemeId === order.schemeId && h.attempt)?.attempt;
  return attempt
    ? { operation: attempt.operation, at: attempt.at, outcome: attempt.outcome, reply: attempt.reply }
    : null;
}

function SchemeOrder({
  order,
  history,
  reload,
}: {
  order: AuditOrderWithSnapshots;
  history: HistoryItem[];
  reload: () => void;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const canAct = useCan('operator');
  const [ask, prompt] = useReasonPrompt();
  const [busy, setBusy] = useState<string | null>(null);
  const reply = latestReply(order, history);
  const run = async (name: string, action: () => Promise<unknown>, done: string) => {
    setBusy(name);
    try {
      await action();
      void message.success(done);
      reload();
    } catch (e) {
      void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    } finally {
      setBusy(null);
    }
  };
  const version = order.versions?.[0];
  const own = history.filter((h) => h.schemeId === order.schemeId);
  return (
    <Space
      direction="vertical"
      size={12}
      style={{ width: '100%' }}
      data-testid={`order-scheme-${order.schemeId}`}
    >
      {prompt}
      <Card size="small" data-testid="order-summary">
        <Descriptions size="small" column={{ xs: 1, md: 2, xl: 4 }}>
          <Descriptions.Item label={t('orders.status')}>
            <span data-testid="order-status">
              <OrderStatusTag status={order.status} />
            </span>
          </Descriptions.Item>
          <Descriptions.Item label={t('order.billNumber')}>
            <span data-testid="order-bill-number">{order.bill?.number ?? order.kingdeeNumber ?? '—'}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('order.billState')}>
            <span data-testid="order-bill-state">{order.bill?.state ?? '—'}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t('orders.scheme')}>{order.schemeId}</Descriptions.Item>
          {order.errorMessage && (
            <Descriptions.Item label={t('orders.error')} span={4}>
              <Typography.Text type="danger" data-testid="order-error">
                {order.errorMessage}
              </Typography.Text>
            </Descriptions.Item>
          )}
        </Descriptions>
        <Space wrap style={{ marginTop: 8 }}>
          <Button
            type="primary"
            data-testid="order-repush"
            disabled={!canAct}
            loading={busy === 'repush'}
            onClick={() =>
              void run(
                'repush',
                () => repairApi.repushOrders([order.sourceKey], order.schemeId),
                t('order.repushed'),
              )
            }
          >
            {t('order.repush')}
          </Button>
          <Button
            data-testid="order-resync"
            disabled={!canAct}
            loading={busy === 'resync'}
            onClick={() =>
              void run(
                'resync',
                () => repairApi.resync(order.schemeId, [order.sourceKey]),
                t('order.resyncRequested'),
              )
            }
          >
            {t('order.resync')}
          </Button>
          <Button
            danger
            data-testid="order-close"
            disabled={!canAct}
            loading={busy === 'close'}
            onClick={() =>
              void ask(t('order.close')).then(
                (reason) =>
                  void (
                    reason &&
                    run(
                      'close',
                      () => repairApi.close(order.sourceKey, order.schemeId, reason),
                      t('order.closed'),
                    )
                  ),
              )
            }
          >
            {t('order.close')}
          </Button>
        </Space>
      </Card>
      <Card size="small" title={t('order.lastReply')} data-testid="order-last-reply">
        {reply ? (
          <>
            <Typography.Text type="secondary">
              {reply.operation} · {formatTime(reply.at)} {reply.outcome ? `· ${reply.outcome}` : ''}
            </Typography.Text>
            <JsonView value={reply.reply} testId="order-last-reply-json" />
          </>
        ) : (
          <Empty description={t('order.noReply')} />
        )}
      </Card>
      {order.change && (
        <Card size="small" title={t('order.change')} data-testid="order-change">
          <Table
            size="small"
            rowKey="path"
            pagination={false}
            dataSource={order.change.fields}
            scroll={{ x: 'max-content' }}
            columns={[
              { title: t('order.field'), dataIndex: 'path' },
              { title: t('order.loaded'), dataIndex: 'loaded', render: (v: unknown) => JSON.stringify(v) },
              { title: t('order.current'), dataIndex: 'current', render: (v: unknown) => JSON.stringify(v) },
            ]}
          />
        </Card>
      )}
      <Tabs
        items={[
          {
            key: 'timeline',
            label: t('order.timeline'),
            children: (
              <Timeline
                data-testid="order-timeline"
                items={own.map((h) => ({
                  color: h.status === 'loaded' ? 'green' : /fail|dead/.test(h.status) ? 'red' : 'blue',
                  children: (
                    <div data-testid="timeline-item">
                      <Space wrap>
                        <Typography.Text>{formatTime(h.occurredAt)}</Typography.Text>
                        <Typography.Text type="secondary">{h.stage}</Typography.Text>
                        <OrderStatusTag status={h.status} />
                        {h.attempt && (
                          <Typography.Text
                            code
                          >{`${h.attempt.operation} → ${h.attempt.outcome}`}</Typography.Text>
                        )}
                      </Space>
                      <Collapse
                        size="small"
                        ghost
                        items={[
                          ...(h.attempt
                            ? [
                                {
                                  key: 'req',
                                  label: t('order.request'),
                                  children: <JsonView value={h.attempt.request} />,
                                },
                                {
                                  key: 'rep',
                                  label: t('order.reply'),
                                  children: <JsonView value={h.attempt.reply} />,
                                },
                              ]
                            : []),
                          { key: 'evt', label: 'event', children: <JsonView value={h.event} /> },
                        ]}
                      />
                    </div>
                  ),
                }))}
              />
            ),
          },
          {
            key: 'record',
            label: <span data-testid="order-tab-record">{t('order.record')}</span>,
            children: version ? <JsonView value={version.record} testId="order-record" /> : <Empty />,
          },
          {
            key: 'document',
            label: <span data-testid="order-tab-document">{t('order.document')}</span>,
            children: version ? <JsonView value={version.document} testId="order-document" /> : <Empty />,
          },
        ]}
      />
    </Space>
  );
}

export function OrderPage() {
  const { t } = useTranslation();
  const { orderNo = '' } = useParams();
  const [detail, setDetail] = useState<AuditOrderDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    void readApi
      .order(orderNo)
      .then((d) => {
        setDetail(d);
        setError(null);
      })
      .catch((e) => setError(errorText(e)));
  }, [orderNo]);
  useEffect(() => {
    load();
    const timer = setInterval(load, 5000);
    return () => clearInterval(timer);
  }, [load]);

  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }}>
      <Space>
        <Link to="/orders">← {t('order.back')}</Link>
        <Typography.Title level={4} style={{ margin: 0 }} data-testid="order-no">
          {orderNo}
        </Typography.Title>
      </Space>
      {error && <Alert type="error" message={error} data-testid="order-error-banner" />}
      {!detail && !error && <Spin />}
      {detail && detail.orders.length === 0 && <Empty description={t('order.notFound')} />}
      {detail?.orders.map((o) => (
        <SchemeOrder
          key={o.schemeId}
          order={o as AuditOrderWithSnapshots}
          history={detail.history.items}
          reload={load}
        />
      ))}
    </Space>
  );
}
