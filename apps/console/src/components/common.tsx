import { Input, Modal, Tag, Typography } from 'antd';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { orderStatusColor, schemeStatusColor } from '../lib/status.util';
import { maskPii } from '../lib/mask.util';

export function OrderStatusTag({ status }: { status: string | null | undefined }) {
  const { t } = useTranslation();
  if (!status) return <Tag>—</Tag>;
  return (
    <Tag color={orderStatusColor(status)} data-testid={`status-${status}`}>
      {t(`status.${status}`, { defaultValue: status })}
    </Tag>
  );
}

export function SchemeStatusTag({ status }: { status: string }) {
  const { t } = useTranslation();
  return (
    <Tag color={schemeStatusColor(status)} data-testid={`scheme-status-${status}`}>
      {t(`status.${status}`, { defaultValue: status })}
    </Tag>
  );
}

/** Pretty JSON in a scrolling box; personal fields masked unless `reveal`. */
export function JsonView({
  value,
  testId,
  reveal = false,
}: {
  value: unknown;
  testId?: string;
  reveal?: boolean;
}) {
  const text = value === undefined ? '—' : JSON.stringify(maskPii(value, reveal), null, 2);
  return (
    <pre className="json-view" data-testid={testId}>
      {text}
    </pre>
  );
}

/** Asks for a reason (≥ 3 characters) before an action; resolves null when cancelled. */
export function useReasonPrompt(): [(title: string) => Promise<string | null>, React.ReactNode] {
  const { t } = useTranslation();
  const [state, setState] = useState<{ title: string; resolve: (v: string | null) => void } | null>(null);
  const [reason, setReason] = useState('');
  const ask = (title: string) =>
    new Promise<string | null>((resolve) => {
      setReason('');
      setState({ title, resolve });
    });
  const finish = (value: string | null) => {
    state?.resolve(value);
    setState(null);
  };
  const node = (
    <Modal
      open={state !== null}
      title={state?.title}
      okText={t('common.ok')}
      cancelText={t('common.cancel')}
      okButtonProps={{ disabled: reason.trim().length < 3, ...{ 'data-testid': 'reason-ok' } }}
      onOk={() => finish(reason.trim())}
      onCancel={() => finish(null)}
      destroyOnHidden
    >
      <Typography.Paragraph type="secondary">{t('common.reasonRequired')}</Typography.Paragraph>
      <Input.TextArea
        data-testid="reason-input"
        value={reason}
        autoFocus
        rows={3}
        onChange={(e) => setReason(e.target.value)}
      />
    </Modal>
  );
  return [ask, node];
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
