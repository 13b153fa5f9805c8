import {
  Alert,
  Card,
  Col,
  DatePicker,
  Empty,
  List,
  Row,
  Segmented,
  Space,
  Table,
  Tag,
  Typography,
} from 'antd';
import dayjs, { type Dayjs } from 'dayjs';
import ReactECharts from 'echarts-for-react';
import { useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router-dom';
import { readApi } from '../api/console-api';
import type { FailureGroup, Overview, OverviewScheme } from '../api/console-types';
import { OrderStatusTag, SchemeStatusTag, errorText } from '../components/common';
import { backlogOption, latencyOption, throughputOption } from '../lib/charts.util';
import {
  RANGE_PRESETS,
  bucketFor,
  formatDuration,
  presetRange,
  toApiTime,
  type RangePreset,
  formatWallClock,
} from '../lib/time.util';

export function FailureGroupList({ groups }: { groups: FailureGroup[] }) {
  const { t } = useTranslation();
  if (groups.length === 0)
    return <Empty description={t('overview.noFailures')} data-testid="failure-groups-empty" />;
  return (
    <List
      data-testid="failure-groups"
      dataSource={groups}
      renderItem={(g) => (
        <List.Item data-testid="failure-group" data-group-key={g.key}>
          <List.Item.Meta
            title={
              <Space wrap>
                <OrderStatusTag status={g.status} />
                <span data-testid="failure-group-label">{g.label}</span>
                <Tag data-testid="failure-group-count">{t('common.orders', { count: g.count })}</Tag>
              </Space>
            }
            description={
              <Space wrap size={[8, 4]}>
                {g.orderNos.map((no) => (
                  <Link key={no} to={`/orders/${encodeURIComponent(no)}`} data-testid="failure-group-order">
                    {no}
                  </Link>
                ))}
              </Space>
            }
          />
        </List.Item>
      )}
    />
  );
}

export function OverviewPage() {
  const { t } = useTranslation();
  const [preset, setPreset] = useState<RangePreset | 'custom'>('24h');
  const [range, setRange] = useState<[number, number]>(() => presetRange('24h', Date.now()));
  const [data, setData] = useState<Overview | null>(null);
  const [error, setError] = useState<string | null>(null);

  const load = useCallback(async () => {
    const [fromMs, toMs] = range;
    const from = toApiTime(fromMs);
    const to = toApiTime(toMs);
    try {
      setData(await readApi.overview({ from, to, bucket: bucketFor(fromMs, toMs) }));
      setError(null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [range]);

  useEffect(() => {
    void load();
    const timer = setInterval(() => void load(), 15_000);
    return () => clearInterval(timer);
  }, [load]);

  const columns = [
    {
      title: t('overview.scheme'),
      dataIndex: 'name',
      key: 'name',
      render: (name: string, s: OverviewScheme) => <Link to={`/schemes/${s.id}`}>{name}</Link>,
    },
    {
      title: t('overview.status'),
      dataIndex: 'status',
      key: 'status',
      width: 110,
      render: (st: string) => <SchemeStatusTag status={st} />,
    },
    {
      title: t('overview.cursor'),
      key: 'cursor',
      width: 180,
      render: (_: unknown, s: OverviewScheme) => (s.cursor ? formatWallClock(s.cursor.value) : '—'),
    },
    {
      title: t('overview.lag'),
      dataIndex: 'lagSeconds',
      key: 'lag',
      width: 90,
      render: (v: number | null) => formatDuration(v),
    },
    {
      title: t('overview.lastError'),
      dataIndex: 'lastError',
      key: 'lastError',
      ellipsis: true,
      render: (v: string | null) => (v ? <Typography.Text type="danger">{v}</Typography.Text> : '—'),
    },
  ];

  return (
    <Space direction="vertical" size={16} style={{ width: '100%' }}>
      <Space wrap>
        <Typography.Text>{t('overview.range')}</Typography.Text>
        <Segmented
          data-testid="overview-range-preset"
          value={preset}
          options={[...RANGE_PRESETS]}
          onChange={(v) => {
            setPreset(v as RangePreset);
            setRange(presetRange(v as RangePreset, Date.now()));
          }}
        />
        <DatePicker.RangePicker
          data-testid="overview-range"
          showTime
          value={[dayjs(range[0]), dayjs(range[1])]}
          onChange={(v) => {
            if (v?.[0] && v[1]) {
              setPreset('custom');
              setRange([(v[0] as Dayjs).valueOf(), (v[1] as Dayjs).valueOf()]);
            }
          }}
        />
      </Space>
      {error && <Alert type="error" message={error} />}
      <Card title={t('overview.schemes')} size="small">
        <Table
          data-testid="overview-schemes"
          rowKey="id"
          size="small"
          pagination={false}
          dataSource={data?.schemes ?? []}
          columns={columns}
          scroll={{ x: 'max-content' }}
          loading={!data && !error}
          onRow={(s) => ({ 'data-testid': `overview-scheme-${s.id}` }) as React.HTMLAttributes<HTMLElement>}
        />
      </Card>
      <Row gutter={[16, 16]}>
        <Col xs={24} xl={12}>
          <Card title={t('overview.throughput')} size="small" data-testid="chart-throughput">
            {data?.series.length ? (
              <ReactECharts option={throughputOption(data.series, t)} style={{ height: 240 }} notMerge />
            ) : (
              <Empty description={t('overview.unavailable')} />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={12}>
          <Card title={t('overview.latency')} size="small" data-testid="chart-latency">
            {data?.latency.length ? (
              <ReactECharts option={latencyOption(data.latency)} style={{ height: 240 }} notMerge />
            ) : (
              <Empty description={t('overview.unavailable')} />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={8}>
          <Card title={t('overview.backlog')} size="small" data-testid="chart-backlog">
            {data?.backlog.length ? (
              <ReactECharts option={backlogOption(data.backlog)} style={{ height: 200 }} notMerge />
            ) : (
              <Empty description={t('overview.unavailable')} />
            )}
          </Card>
        </Col>
        <Col xs={24} xl={16}>
          <Card title={t('overview.failureGroups')} size="small">
            <FailureGroupList groups={data?.failureGroups ?? []} />
          </Card>
        </Col>
      </Row>
    </Space>
  );
}
