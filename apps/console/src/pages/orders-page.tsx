import { Button, DatePicker, Input, Select, Space, Table, Typography } from 'antd';
import type { Dayjs } from 'dayjs';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router-dom';
import { readApi } from '../api/console-api';
import type { AuditOrder, OrdersPage as Page, SchemeListItem } from '../api/console-types';
import { OrderStatusTag } from '../components/common';
import { buildExportUrl, orderFilterQuery, type OrderFilters } from '../lib/export-url.util';
import { ORDER_STATUSES } from '../lib/status.util';
import { formatTime, toApiTime } from '../lib/time.util';

const PAGE_SIZE = 20;

export function OrdersPage() {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const filters: OrderFilters = Object.fromEntries(params.entries());
  const page = Number(params.get('page') ?? 1);
  const [data, setData] = useState<Page | null>(null);
  const [schemes, setSchemes] = useState<SchemeListItem[]>([]);
  const [loading, setLoading] = useState(false);
  const key = params.toString();

  useEffect(() => {
    void readApi
      .schemes()
      .then(setSchemes)
      .catch(() => undefined);
  }, []);
  useEffect(() => {
    setLoading(true);
    void readApi
      .orders({ ...orderFilterQuery(filters), limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE })
      .then(setData)
      .catch(() => setData(null))
      .finally(() => setLoading(false));
    // Reloads when the URL's filters change (`key` is their serialisation).
  }, [key]);

  const update = (patch: Record<string, string | undefined>) => {
    const next = new URLSearchParams(params);
    for (const [k, v] of Object.entries(patch)) {
      if (v) next.set(k, v);
      else next.delete(k);
    }
    if (!('page' in patch)) next.delete('page');
    setParams(next);
  };

  const total =
    data?.total ??
    (data ? (page - 1) * PAGE_SIZE + data.items.length + (data.nextOffset !== null ? 1 : 0) : 0);
  return (
    <Space direction="vertical" size={12} style={{ width: '100%' }}>
      <Space wrap>
        <Input.Search
          data-testid="orders-search"
          placeholder={t('orders.search')}
          allowClear
          defaultValue={filters.q}
          onSearch={(q) => update({ q })}
          style={{ width: 240 }}
        />
        <Select
          data-testid="orders-status"
          placeholder={t('orders.status')}
          allowClear
          value={filters.status}
          style={{ width: 160 }}
          onChange={(status) => update({ status })}
          options={ORDER_STATUSES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
        />
        <Select
          data-testid="orders-scheme"
          placeholder={t('orders.scheme')}
          allowClear
          value={filters.schemeId}
          style={{ width: 220 }}
          onChange={(schemeId) => update({ schemeId })}
          options={schemes.map((s) => ({ value: s.id, label: s.name }))}
        />
        <DatePicker.RangePicker
          data-testid="orders-range"
          showTime
          onChange={(v) =>
            update({
              from: v?.[0] ? toApiTime((v[0] as Dayjs).valueOf()) : undefined,
              to: v?.[1] ? toApiTime((v[1] as Dayjs).valueOf()) : undefined,
            })
          }
        />
        <Button data-testid="orders-export-csv" href={buildExportUrl('csv', filters)}>
          {t('orders.exportCsv')}
        </Button>
        <Button data-testid="orders-export-xlsx" href={buildExportUrl('xlsx', filters)}>
          {t('orders.exportXlsx')}
        </Button>
      </Space>
      <Table<AuditOrder>
        data-testid="orders-table"
        rowKey={(o) => `${o.schemeId}/${o.sourceKey}`}
        size="small"
        loading={loading}
        dataSource={data?.items ?? []}
        scroll={{ x: 'max-content' }}
        onRow={(o) => ({ 'data-testid': `order-row-${o.sourceKey}` }) as React.HTMLAttributes<HTMLElement>}
        pagination={{
          current: page,
          pageSize: PAGE_SIZE,
          total,
          showSizeChanger: false,
          showTotal: (n) => <span data-testid="orders-total">{t('orders.total', { total: n })}</span>,
          onChange: (p) => update({ page: String(p) }),
        }}
        columns={[
          {
            title: t('orders.orderNo'),
            dataIndex: 'sourceKey',
            render: (no: string) => (
              <Link to={`/orders/${encodeURIComponent(no)}`} data-testid="order-link">
                {no}
              </Link>
            ),
          },
          {
            title: t('orders.status'),
            dataIndex: 'status',
            render: (s: string) => <OrderStatusTag status={s} />,
          },
          { title: t('orders.scheme'), dataIndex: 'schemeId' },
          { title: t('orders.bill'), dataIndex: 'kingdeeNumber', render: (v: string | null) => v ?? '—' },
          {
            title: t('orders.error'),
            dataIndex: 'errorMessage',
            width: 360,
            ellipsis: true,
            render: (v: string | null) => (v ? <Typography.Text type="danger">{v}</Typography.Text> : '—'),
          },
          { title: t('orders.updated'), dataIndex: 'lastOccurredAt', render: (v: string) => formatTime(v) },
        ]}
      />
    </Space>
  );
}
