import {
  Alert,
  App,
  Button,
  Card,
  Checkbox,
  DatePicker,
  Form,
  Input,
  Progress,
  Select,
  Space,
  Table,
  Tag,
} from 'antd';
import type { Dayjs } from 'dayjs';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { readApi, repairApi } from '../api/console-api';
import type { Action, AuditOrder, FailureGroup, RangeRequest } from '../api/console-types';
import { ApiError } from '../api/http';
import { OrderStatusTag, errorText, useReasonPrompt } from '../components/common';
import { formatTime, toApiTime } from '../lib/time.util';
import { useCan } from '../session';

type Waiting = Awaited<ReturnType<typeof readApi.waiting>>;

export function RepairPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const canAct = useCan('operator');
  const [ask, prompt] = useReasonPrompt();
  const [groups, setGroups] = useState<FailureGroup[]>([]);
  const [failed, setFailed] = useState<AuditOrder[]>([]);
  const [selected, setSelected] = useState<React.Key[]>([]);
  const [waiting, setWaiting] = useState<Waiting | null>(null);
  const [actions, setActions] = useState<Action[]>([]);
  const [request, setRequest] = useState<RangeRequest | null>(null);
  const [rangeError, setRangeError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [failedPage, deadPage] = await Promise.all([
      readApi.orders({ status: 'failed', limit: 200 }).catch(() => null),
      readApi.orders({ status: 'dead_lettered', limit: 200 }).catch(() => null),
    ]);
    const items = [...(failedPage?.items ?? []), ...(deadPage?.items ?? [])];
    setFailed(items);
    setGroups(await readApi.failureGroups().catch(() => []));
    setWaiting(await readApi.waiting().catch(() => null));
    setActions((await readApi.actions({ limit: 50 }).catch(() => null))?.items ?? []);
  }, []);
  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 10_000);
    return () => clearInterval(timer);
  }, [load]);

  useEffect(() => {
    if (!request || ['done', 'failed', 'cancelled'].includes(request.state)) return;
    const timer = setInterval(() => {
      void repairApi
        .rangeRequest(request.id)
        .then(setRequest)
        .catch(() => undefined);
    }, 1500);
    return () => clearInterval(timer);
  }, [request]);

  const act = async (action: () => Promise<unknown>) => {
    try {
      await action();
      void message.success(t('common.done'));
      void load();
    } catch (e) {
      void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    }
  };
  const selectedOrders = failed.filter((o) => selected.includes(`${o.schemeId}/${o.sourceKey}`));

  const submitRange = async (v: {
    kind: 'replay' | 'backfill';
    schemeId?: string;
    stage?: 'transform' | 'load';
    range: [Dayjs, Dayjs];
    force?: boolean;
  }) => {
    setRangeError(null);
    const from = toApiTime(v.range[0].valueOf());
    const to = toApiTime(v.range[1].valueOf());
    try {
      setRequest(
        v.kind === 'replay'
          ? await repairApi.replay({ schemeId: v.schemeId, stage: v.stage ?? 'transform', from, to })
          : await repairApi.backfill({ schemeId: v.schemeId ?? '', from, to, force: v.force }),
      );
    } catch (e) {
      setRangeError(e instanceof ApiError ? e.message : errorText(e));
    }
  };
  const percent = request?.progress.total
    ? Math.round((100 * request.progress.done) / request.progress.total)
    : request?.state === 'done'
      ? 100
      : 0;

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      {prompt}
      <Card size="small" title={t('repair.groups')}>
        <Table<FailureGroup>
          data-testid="repair-groups"
          rowKey="key"
          size="small"
          pagination={false}
          dataSource={groups}
          scroll={{ x: 'max-content' }}
          onRow={() => ({ 'data-testid': 'repair-group' }) as React.HTMLAttributes<HTMLElement>}
          columns={[
            {
              title: t('orders.status'),
              dataIndex: 'status',
              render: (s: string) => <OrderStatusTag status={s} />,
            },
            { title: t('repair.problem'), dataIndex: 'label', width: 420 },
            { title: '#', dataIndex: 'count' },
            {
              title: t('common.actions'),
              render: (_: unknown, g: FailureGroup) => (
                <Button
                  size="small"
                  data-testid="repair-group-repush"
                  disabled={!canAct}
                  onClick={() => void act(() => repairApi.repushOrders(g.orderNos, g.schemeId))}
                >
                  {t('repair.repushGroup')}
                </Button>
              ),
            },
          ]}
        />
      </Card>
      <Card
        size="small"
        title={t('status.failed')}
        extra={
          <Space>
            <Button
              data-testid="repair-repush-selected"
              disabled={!canAct || selectedOrders.length === 0}
              onClick={() => void act(() => repairApi.repushOrders(selectedOrders.map((o) => o.sourceKey)))}
            >
              {t('repair.repushSelected')}
            </Button>
            <Button
              danger
              data-testid="repair-close-selected"
              disabled={!canAct || selectedOrders.length === 0}
              onClick={() =>
                void ask(t('repair.closeSelected')).then(
                  (reason) =>
                    void (
                      reason &&
                      act(() =>
                        Promise.all(
                          selectedOrders.map((o) => repairApi.close(o.sourceKey, o.schemeId, reason)),
                        ),
                      )
                    ),
                )
              }
            >
              {t('repair.closeSelected')}
            </Button>
          </Space>
        }
      >
        <Table<AuditOrder>
          data-testid="repair-failed"
          size="small"
          rowKey={(o) => `${o.schemeId}/${o.sourceKey}`}
          rowSelection={{
            selectedRowKeys: selected,
            onChange: setSelected,
            getCheckboxProps: () => ({ disabled: !canAct }),
          }}
          dataSource={failed}
          pagination={{ pageSize: 10, showSizeChanger: false }}
          scroll={{ x: 'max-content' }}
          columns={[
            {
              title: t('orders.orderNo'),
              dataIndex: 'sourceKey',
              render: (no: string) => <Link to={`/orders/${encodeURIComponent(no)}`}>{no}</Link>,
            },
            {
              title: t('orders.status'),
              dataIndex: 'status',
              render: (s: string) => <OrderStatusTag status={s} />,
            },
            { title: t('orders.error'), dataIndex: 'errorMessage', width: 420, ellipsis: true },
          ]}
        />
      </Card>
      <Card
        size="small"
        title={t('repair.waiting')}
        extra={
          <Button
            data-testid="waiting-check-now"
            disabled={!canAct}
            onClick={() => void act(() => repairApi.checkBaseData())}
          >
            {t('repair.checkNow')}
          </Button>
        }
      >
        <Table
          data-testid="waiting-groups"
          size="small"
          rowKey={(w) => `${w.form}/${w.code}/${w.org ?? ''}`}
          pagination={false}
          dataSource={waiting?.items ?? []}
          scroll={{ x: 'max-content' }}
          columns={[
            {
              title: t('repair.code'),
              render: (_: unknown, w: Waiting['items'][number]) => `${w.noun} ${w.code}`,
            },
            { title: t('repair.problem'), dataIndex: 'diagnosis', width: 360 },
            { title: '#', dataIndex: 'count' },
            {
              title: t('menu.orders'),
              render: (_: unknown, w: Waiting['items'][number]) => (
                <Space wrap>
                  {w.orders.slice(0, 10).map((o) => (
                    <Link key={o.orderNo} to={`/orders/${encodeURIComponent(o.orderNo)}`}>
                      {o.orderNo}
                    </Link>
                  ))}
                </Space>
              ),
            },
          ]}
        />
      </Card>
      <Card size="small" title={t('repair.range')}>
        <Form
          layout="inline"
          onFinish={submitRange}
          initialValues={{ kind: 'replay', stage: 'transform' }}
          data-testid="range-form"
        >
          <Form.Item name="kind" label={t('repair.kind')}>
            <Select
              data-testid="range-kind"
              style={{ width: 110 }}
              options={[
                { value: 'replay', label: t('repair.replay') },
                { value: 'backfill', label: t('repair.backfill') },
              ]}
            />
          </Form.Item>
          <Form.Item name="schemeId" label={t('orders.scheme')}>
            <Input data-testid="range-scheme" style={{ width: 200 }} />
          </Form.Item>
          <Form.Item name="stage" label={t('repair.stage')}>
            <Select
              data-testid="range-stage"
              style={{ width: 110 }}
              options={[{ value: 'transform' }, { value: 'load' }]}
            />
          </Form.Item>
          <Form.Item name="range" rules={[{ required: true }]}>
            <DatePicker.RangePicker data-testid="range-range" showTime />
          </Form.Item>
          <Form.Item name="force" valuePropName="checked">
            <Checkbox>{t('repair.force')}</Checkbox>
          </Form.Item>
          <Button type="primary" htmlType="submit" disabled={!canAct} data-testid="range-submit">
            {t('repair.submit')}
          </Button>
        </Form>
        {rangeError && <Alert type="error" message={rangeError} style={{ marginTop: 8 }} />}
        {request && (
          <div style={{ marginTop: 12 }} data-testid="range-progress">
            <Space>
              <Tag data-testid="range-state">{request.state}</Tag>
              <span>
                {request.progress.done}/{request.progress.total ?? '?'}
              </span>
              {request.message}
            </Space>
            <Progress
              percent={percent}
              status={
                request.state === 'failed' ? 'exception' : request.state === 'done' ? 'success' : 'active'
              }
            />
          </div>
        )}
      </Card>
      <Card size="small" title={t('repair.actions')}>
        <Table<Action>
          data-testid="actions-log"
          size="small"
          rowKey="id"
          dataSource={actions}
          pagination={{ pageSize: 10, showSizeChanger: false }}
          scroll={{ x: 'max-content' }}
          columns={[
            { title: t('common.time'), dataIndex: 'at', render: (v: string) => formatTime(v) },
            { title: t('repair.who'), dataIndex: 'tokenName' },
            { title: t('repair.what'), dataIndex: 'action' },
            { title: t('repair.target'), dataIndex: 'target' },
            {
              title: t('repair.why'),
              render: (_: unknown, a: Action) => String((a.params as Record<string, unknown>)?.reason ?? '—'),
            },
            { title: t('repair.outcome'), dataIndex: 'outcome' },
          ]}
        />
      </Card>
    </Space>
  );
}
