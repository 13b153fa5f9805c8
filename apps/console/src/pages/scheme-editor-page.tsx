import {
  Alert,
  App,
  Button,
  Card,
  Col,
  Form,
  Input,
  InputNumber,
  Row,
  Select,
  Space,
  Switch,
  Table,
  Tabs,
  Tag,
  Typography,
} from 'antd';
import { useCallback, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useParams } from 'react-router-dom';
import { connectionsApi, schemeApi } from '../api/console-api';
import type { Connection, Preview, SchemeIssue, SchemeRevision } from '../api/console-types';
import { ApiError } from '../api/http';
import { JsonView, errorText } from '../components/common';
import { formatIssuePath, issueTarget, type EditorStep, type FieldName } from '../lib/issue-path.util';
import {
  FIELD_KINDS,
  FIELD_TYPES,
  PRECONDITION_OPERATORS,
  formToYaml,
  yamlToForm,
  type SchemeForm,
} from '../lib/scheme-form.util';
import { formatTime } from '../lib/time.util';
import { useCan } from '../session';

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: 'application/yaml' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  URL.revokeObjectURL(url);
}

function PreviewPanel({ schemeId, yaml }: { schemeId: string; yaml: string }) {
  const { t } = useTranslation();
  const [orderNo, setOrderNo] = useState('');
  const [record, setRecord] = useState('');
  const [preview, setPreview] = useState<Preview | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!preview || preview.state === 'done' || preview.state === 'failed') return;
    const timer = setTimeout(
      () =>
        void schemeApi
          .previewState(preview.id)
          .then(setPreview)
          .catch((e) => setError(errorText(e))),
      1000,
    );
    return () => clearTimeout(timer);
  }, [preview]);
  const run = async () => {
    setError(null);
    try {
      const body = record.trim()
        ? { schemeId, record: JSON.parse(record), schemeYaml: yaml }
        : { schemeId, orderNo: orderNo.trim(), schemeYaml: yaml };
      setPreview(await schemeApi.preview(body));
    } catch (e) {
      setError(errorText(e));
    }
  };
  const codeColor = {
    ok: 'success',
    missing: 'error',
    forbidden: 'error',
    unallocated: 'warning',
    unchecked: 'default',
  } as const;
  return (
    <Card size="small" title={t('schemes.preview')} data-testid="preview-panel">
      <Space direction="vertical" style={{ width: '100%' }}>
        <Input
          data-testid="preview-order-no"
          placeholder={t('schemes.previewOrderNo')}
          value={orderNo}
          onChange={(e) => setOrderNo(e.target.value)}
        />
        <Input.TextArea
          data-testid="preview-record"
          rows={3}
          placeholder={t('schemes.previewRecord')}
          value={record}
          onChange={(e) => setRecord(e.target.value)}
        />
        <Button
          data-testid="preview-run"
          onClick={() => void run()}
          disabled={!orderNo.trim() && !record.trim()}
        >
          {t('schemes.runPreview')}
        </Button>
        {error && <Alert type="error" message={error} data-testid="preview-error" />}
        {preview && (
          <>
            <Tag data-testid="preview-state">{preview.state}</Tag>
            {preview.error && <Alert type="error" message={preview.error} />}
            <Typography.Text strong>{t('schemes.previewPreconditions')}</Typography.Text>
            <Space wrap data-testid="preview-preconditions">
              {preview.preconditions.map((p) => (
                <Tag key={p.name} color={p.passed ? 'success' : 'error'} title={p.message ?? ''}>
                  {p.name}: {p.passed ? t('schemes.passed') : t('schemes.notPassed')}
                </Tag>
              ))}
            </Space>
            <Typography.Text strong>{t('schemes.previewCodes')}</Typography.Text>
            <Space wrap data-testid="preview-codes">
              {preview.codes.map((c) => (
                <Tag
                  key={`${c.field}/${c.code}`}
                  color={codeColor[c.state]}
                  title={c.message ?? ''}
                  data-testid={`preview-code-${c.state}`}
                >
                  {c.field} {c.code}: {c.state}
                </Tag>
              ))}
            </Space>
            <Typography.Text strong>{t('schemes.previewRequest')}</Typography.Text>
            <JsonView value={preview.request} testId="preview-request" />
          </>
        )}
      </Space>
    </Card>
  );
}

/** The × that removes a row of a form list (a parameter, a mapping field, a precondition). */
function RemoveRowButton({ onClick }: { onClick: () => void }) {
  return (
    <Button size="small" type="link" onClick={onClick}>
      ×
    </Button>
  );
}

export function SchemeEditorPage() {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const { id = '' } = useParams();
  const canEdit = useCan('admin');
  // Untyped store: issue paths address the form by (string | number)[] names.
  const [form] = Form.useForm();
  const [yaml, setYaml] = useState('');
  const [etag, setEtag] = useState('');
  const [loadError, setLoadError] = useState<string | null>(null);
  const [issues, setIssues] = useState<SchemeIssue[]>([]);
  const [unplaced, setUnplaced] = useState<SchemeIssue[]>([]);
  const [tab, setTab] = useState<EditorStep | 'history'>('source');
  const [conflict, setConflict] = useState(false);
  const [readOnly, setReadOnly] = useState(false);
  const [comment, setComment] = useState('');
  const [revisions, setRevisions] = useState<SchemeRevision[]>([]);
  const placed = useRef<FieldName[]>([]);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const validateRef = useRef<(text: string) => void>(() => undefined);
  // The deployment's connections, for the source/target pickers (names only; no secrets).
  const [connections, setConnections] = useState<Connection[]>([]);
  useEffect(() => {
    void connectionsApi
      .list()
      .then(setConnections)
      .catch(() => undefined);
  }, []);
  const connectionOptions = (kind: Connection['kind']) =>
    connections
      .filter((c) => c.kind === kind)
      .map((c) => ({
        value: c.name,
        label: `${c.name} · ${kind === 'wdt' ? c.sid : c.account}`,
      }));

  const load = useCallback(async () => {
    try {
      const file = await schemeApi.file(id);
      setYaml(file.yaml);
      setEtag(file.etag);
      setReadOnly(!file.writable);
      setConflict(false);
      form.setFieldsValue(yamlToForm(file.yaml));
      validateRef.current(file.yaml);
      setRevisions(await schemeApi.revisions(id).catch(() => []));
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, [id, form]);
  useEffect(() => {
    void load();
  }, [load]);

  const validate = useCallback(
    (text: string) => {
      clearTimeout(timer.current);
      timer.current = setTimeout(() => {
        void schemeApi
          .validate(text)
          .then((result) => {
            const current = form.getFieldsValue(true) as SchemeForm;
            form.setFields(placed.current.map((name) => ({ name, errors: [] })));
            const byField = new Map<string, { name: FieldName; errors: string[] }>();
            const rest: SchemeIssue[] = [];
            for (const issue of result.issues) {
              const target = issueTarget(issue.path, current);
              if (!target.name) rest.push(issue);
              else {
                const key = JSON.stringify(target.name);
                const entry = byField.get(key) ?? { name: target.name, errors: [] };
                entry.errors.push(issue.message);
                byField.set(key, entry);
              }
            }
            placed.current = [...byField.values()].map((f) => f.name);
            form.setFields([...byField.values()]);
            setIssues(result.issues);
            setUnplaced(rest);
          })
          .catch(() => undefined);
      }, 400);
    },
    [form],
  );

  validateRef.current = validate;

  const onFormChange = () => {
    try {
      const next = formToYaml(form.getFieldsValue(true) as SchemeForm, yaml);
      setYaml(next);
      validate(next);
    } catch {
      /* the YAML tab shows the parse error */
    }
  };
  const onYamlChange = (text: string) => {
    setYaml(text);
    try {
      form.setFieldsValue(yamlToForm(text));
    } catch {
      /* keep the form until the text parses again */
    }
    validate(text);
  };

  const save = async () => {
    try {
      const result = await schemeApi.save(id, yaml, etag, comment);
      setEtag(result.etag);
      setComment('');
      void message.success(t('schemes.saved', { revision: result.revision }));
      setRevisions(await schemeApi.revisions(id).catch(() => []));
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true);
      else if (e instanceof ApiError && e.status === 409 && e.body.download) setReadOnly(true);
      else if (e instanceof ApiError && e.body.issues) setIssues(e.body.issues);
      else void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    }
  };
  const rollback = async (revision: number) => {
    try {
      await schemeApi.rollback(id, revision, etag);
      void message.success(t('schemes.rolledBack'));
      await load();
    } catch (e) {
      if (e instanceof ApiError && e.status === 412) setConflict(true);
      else void message.error(`${t('common.failedAction')}: ${errorText(e)}`);
    }
  };

  if (loadError) return <Alert type="error" message={loadError} data-testid="scheme-load-error" />;

  const stepSource = (
    <>
      <Row gutter={12}>
        <Col span={8}>
          <Form.Item name="id" label={t('schemes.id')}>
            <Input data-testid="field-id" />
          </Form.Item>
        </Col>
        <Col span={16}>
          <Form.Item name="name" label={t('schemes.name')}>
            <Input data-testid="field-name" />
          </Form.Item>
        </Col>
      </Row>
      <Form.Item name="description" label={t('schemes.description')}>
        <Input />
      </Form.Item>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item name={['source', 'connection']} label={t('connections.sourcePicker')}>
            <Select showSearch data-testid="field-source-connection" options={connectionOptions('wdt')} />
          </Form.Item>
        </Col>
        <Col span={12}>
          <Form.Item name={['target', 'connection']} label={t('connections.targetPicker')}>
            <Select showSearch data-testid="field-target-connection" options={connectionOptions('kingdee')} />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={12}>
        <Col span={12}>
          <Form.Item name={['source', 'method']} label={t('schemes.method')}>
            <Input data-testid="field-source-method" />
          </Form.Item>
        </Col>
        <Col span={6}>
          <Form.Item name={['source', 'pageSize']} label={t('schemes.pageSize')}>
            <InputNumber
              min={1}
              max={100}
              style={{ width: '100%' }}
              placeholder={t('schemes.pageSizeDefault')}
            />
          </Form.Item>
        </Col>
        <Col span={6}>
          <Form.Item name={['source', 'statusFilter']} label={t('schemes.statusFilter')}>
            <Select allowClear options={['5', '50', '55', '95', '110'].map((v) => ({ value: v }))} />
          </Form.Item>
        </Col>
      </Row>
      <Row gutter={12}>
        <Col span={6}>
          <Form.Item name={['source', 'cursorAxis']} label={t('schemes.cursorAxis')}>
            <Select options={['auto', 'consign_time', 'modified'].map((v) => ({ value: v }))} />
          </Form.Item>
        </Col>
        <Col span={6}>
          <Form.Item name={['source', 'lookback']} label={t('schemes.lookback')}>
            <Input />
          </Form.Item>
        </Col>
        <Col span={6}>
          <Form.Item name={['source', 'safetyLag']} label={t('schemes.safetyLag')}>
            <Input />
          </Form.Item>
        </Col>
        <Col span={6}>
          <Form.Item name={['source', 'maxWindow']} label={t('schemes.maxWindow')}>
            <Input />
          </Form.Item>
        </Col>
      </Row>
      <Typography.Text strong>{t('schemes.params')}</Typography.Text>
      <Form.List name={['source', 'params']}>
        {(fields, { add, remove }) => (
          <>
            {fields.map((f) => (
              <Space key={f.key} align="baseline" style={{ display: 'flex' }}>
                <Form.Item name={[f.name, 'name']}>
                  <Input placeholder={t('schemes.paramName')} />
                </Form.Item>
                <Form.Item name={[f.name, 'value']}>
                  <Input placeholder={t('schemes.paramValue')} style={{ width: 320 }} />
                </Form.Item>
                <RemoveRowButton
                  onClick={() => {
                    remove(f.name);
                    onFormChange();
                  }}
                />
              </Space>
            ))}
            <Button size="small" onClick={() => add({ name: '', value: '' })}>
              +
            </Button>
          </>
        )}
      </Form.List>
    </>
  );

  const stepMapping = (
    <Form.List name="mapping">
      {(fields, { add, remove }) => (
        <>
          <Table
            data-testid="mapping-table"
            size="small"
            pagination={false}
            rowKey="key"
            dataSource={fields}
            scroll={{ x: 'max-content', y: 420 }}
            onRow={(f) =>
              ({
                'data-testid': `mapping-row-${form.getFieldValue(['mapping', f.name, 'field'])}`,
              }) as React.HTMLAttributes<HTMLElement>
            }
            columns={[
              {
                title: t('schemes.section'),
                width: 110,
                render: (_, f) => (
                  <Typography.Text type="secondary">
                    {form.getFieldValue(['mapping', f.name, 'section'])}
                  </Typography.Text>
                ),
              },
              {
                title: t('schemes.targetField'),
                width: 150,
                render: (_, f) => (
                  <Form.Item name={[f.name, 'field']} noStyle>
                    <Input size="small" />
                  </Form.Item>
                ),
              },
              {
                title: t('schemes.kind'),
                width: 110,
                render: (_, f) => (
                  <Form.Item name={[f.name, 'kind']} style={{ margin: 0 }}>
                    <Select
                      size="small"
                      data-testid="mapping-kind"
                      options={FIELD_KINDS.map((k) => ({ value: k }))}
                    />
                  </Form.Item>
                ),
              },
              {
                title: t('schemes.expression'),
                width: 280,
                render: (_, f) => (
                  <Form.Item name={[f.name, 'expression']} style={{ margin: 0 }}>
                    <Input size="small" data-testid="mapping-expression" />
                  </Form.Item>
                ),
              },
              {
                title: t('schemes.type'),
                width: 110,
                render: (_, f) => (
                  <Form.Item name={[f.name, 'type']} style={{ margin: 0 }}>
                    <Select size="small" options={FIELD_TYPES.map((k) => ({ value: k }))} />
                  </Form.Item>
                ),
              },
              {
                title: t('schemes.valueMap'),
                width: 120,
                render: (_, f) => (
                  <Form.Item name={[f.name, 'valueMap']} style={{ margin: 0 }}>
                    <Input size="small" />
                  </Form.Item>
                ),
              },
              {
                title: t('schemes.required'),
                width: 70,
                render: (_, f) => (
                  <Form.Item name={[f.name, 'required']} valuePropName="checked" style={{ margin: 0 }}>
                    <Switch size="small" />
                  </Form.Item>
                ),
              },
              {
                title: '',
                width: 40,
                render: (_, f) => (
                  <RemoveRowButton
                    onClick={() => {
                      remove(f.name);
                      onFormChange();
                    }}
                  />
                ),
              },
            ]}
          />
          <Button
            size="small"
            style={{ marginTop: 8 }}
            data-testid="mapping-add"
            onClick={() =>
              add({
                section: 'header',
                field: '',
                kind: 'template',
                expression: '',
                type: 'string',
                required: false,
              })
            }
          >
            {t('schemes.addField')}
          </Button>
        </>
      )}
    </Form.List>
  );

  const stepCheck = (
    <>
      <Row gutter={12}>
        <Col span={6}>
          <Form.Item name={['check', 'pollInterval']} label={t('schemes.pollInterval')}>
            <Input data-testid="field-poll-interval" />
          </Form.Item>
        </Col>
        <Col span={8}>
          <Form.Item name={['check', 'transferTime']} label={t('schemes.transferTime')}>
            <Input data-testid="field-transfer-time" />
          </Form.Item>
        </Col>
        <Col span={5}>
          <Form.Item name={['check', 'retryCount']} label={t('schemes.retryCount')}>
            <InputNumber min={0} max={20} data-testid="field-retry-count" />
          </Form.Item>
        </Col>
        <Col span={5}>
          <Form.Item name={['check', 'enabled']} label={t('schemes.enabled')} valuePropName="checked">
            <Switch data-testid="field-enabled" />
          </Form.Item>
        </Col>
      </Row>
      <Typography.Text strong>{t('schemes.preconditions')}</Typography.Text>
      <Form.List name={['check', 'preconditions']}>
        {(fields, { add, remove }) => (
          <>
            {fields.map((f) => (
              <Space
                key={f.key}
                align="baseline"
                wrap
                style={{ display: 'flex' }}
                data-testid="precondition-row"
              >
                <Form.Item name={[f.name, 'name']}>
                  <Input placeholder={t('schemes.preName')} />
                </Form.Item>
                <Form.Item name={[f.name, 'field']}>
                  <Input placeholder={t('schemes.preField')} style={{ width: 120 }} />
                </Form.Item>
                <Form.Item name={[f.name, 'operator']}>
                  <Select
                    style={{ width: 110 }}
                    options={PRECONDITION_OPERATORS.map((o) => ({ value: o }))}
                  />
                </Form.Item>
                <Form.Item name={[f.name, 'value']}>
                  <Input placeholder={t('schemes.value')} style={{ width: 160 }} />
                </Form.Item>
                <Form.Item name={[f.name, 'reason']}>
                  <Input placeholder={t('common.reason')} style={{ width: 240 }} />
                </Form.Item>
                <RemoveRowButton
                  onClick={() => {
                    remove(f.name);
                    onFormChange();
                  }}
                />
              </Space>
            ))}
            <Button size="small" onClick={() => add({ name: '', operator: 'equals', value: '' })}>
              {t('schemes.addPrecondition')}
            </Button>
          </>
        )}
      </Form.List>
    </>
  );

  return (
    <Row gutter={16}>
      <Col xs={24} xl={16}>
        <Space direction="vertical" style={{ width: '100%' }}>
          <Space wrap>
            <Typography.Title level={4} style={{ margin: 0 }}>
              {t('schemes.editor')}: {id}
            </Typography.Title>
            <Tag color={issues.length ? 'error' : 'success'} data-testid="scheme-validity">
              {issues.length ? t('schemes.invalid', { count: issues.length }) : t('schemes.valid')}
            </Tag>
          </Space>
          {conflict && (
            <Alert
              type="warning"
              data-testid="scheme-conflict"
              message={t('schemes.conflict')}
              action={
                <Button size="small" onClick={() => void load()}>
                  {t('schemes.reload')}
                </Button>
              }
            />
          )}
          {readOnly && (
            <Alert
              type="info"
              data-testid="scheme-readonly"
              message={t('schemes.readOnly')}
              action={
                <Button
                  size="small"
                  data-testid="scheme-download"
                  onClick={() => download(`${id}.yaml`, yaml)}
                >
                  {t('schemes.download')}
                </Button>
              }
            />
          )}
          {unplaced.length > 0 && (
            <Alert
              type="error"
              data-testid="scheme-issues"
              message={t('schemes.issuesElsewhere')}
              description={
                <ul style={{ margin: 0 }}>
                  {unplaced.map((i, n) => (
                    <li key={n}>
                      {formatIssuePath(i.path)}: {i.message}
                    </li>
                  ))}
                </ul>
              }
            />
          )}
          <Form form={form} layout="vertical" size="small" onValuesChange={onFormChange} disabled={!canEdit}>
            <Tabs
              activeKey={tab}
              onChange={(k) => setTab(k as EditorStep)}
              items={[
                {
                  key: 'source',
                  label: <span data-testid="tab-source">{t('schemes.stepSource')}</span>,
                  children: stepSource,
                  forceRender: true,
                },
                {
                  key: 'mapping',
                  label: <span data-testid="tab-mapping">{t('schemes.stepMapping')}</span>,
                  children: stepMapping,
                  forceRender: true,
                },
                {
                  key: 'check',
                  label: <span data-testid="tab-check">{t('schemes.stepCheck')}</span>,
                  children: stepCheck,
                  forceRender: true,
                },
                {
                  key: 'yaml',
                  label: <span data-testid="tab-yaml">{t('schemes.yaml')}</span>,
                  children: (
                    <Input.TextArea
                      data-testid="scheme-yaml"
                      value={yaml}
                      rows={24}
                      style={{ fontFamily: 'monospace', fontSize: 12 }}
                      onChange={(e) => onYamlChange(e.target.value)}
                    />
                  ),
                },
                {
                  key: 'history',
                  label: <span data-testid="tab-history">{t('schemes.history')}</span>,
                  children: (
                    <Table<SchemeRevision>
                      data-testid="scheme-history"
                      size="small"
                      rowKey="revision"
                      dataSource={revisions}
                      pagination={false}
                      expandable={{ expandedRowRender: (r) => <pre className="json-view">{r.diff}</pre> }}
                      columns={[
                        { title: t('schemes.revision'), dataIndex: 'revision' },
                        { title: t('schemes.author'), dataIndex: 'author' },
                        {
                          title: t('common.time'),
                          dataIndex: 'createdAt',
                          render: (v: string) => formatTime(v),
                        },
                        { title: t('schemes.comment'), dataIndex: 'comment' },
                        {
                          title: '',
                          render: (_, r) => (
                            <Button
                              size="small"
                              data-testid="scheme-rollback"
                              disabled={!canEdit}
                              onClick={() => void rollback(r.revision)}
                            >
                              {t('schemes.rollback')}
                            </Button>
                          ),
                        },
                      ]}
                    />
                  ),
                },
              ]}
            />
          </Form>
          <Space>
            <Input
              data-testid="scheme-comment"
              placeholder={t('schemes.comment_placeholder')}
              value={comment}
              onChange={(e) => setComment(e.target.value)}
              style={{ width: 320 }}
            />
            <Button
              type="primary"
              data-testid="scheme-save"
              disabled={!canEdit || issues.length > 0}
              onClick={() => void save()}
            >
              {t('schemes.save')}
            </Button>
          </Space>
        </Space>
      </Col>
      <Col xs={24} xl={8}>
        <PreviewPanel schemeId={id} yaml={yaml} />
      </Col>
    </Row>
  );
}
