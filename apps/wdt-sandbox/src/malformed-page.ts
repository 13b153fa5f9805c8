import { SandboxGatewayName } from './call-stats';
import { MalformedKind } from './knobs';

export interface RawReply {
  status: number;
  contentType: string;
  body: string;
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** nginx-style HTML error page, as gateways serve under load. */
export function htmlErrorPage(status: number): RawReply {
  const titles: Record<number, string> = {
    500: '500 Internal Server Error',
    502: '502 Bad Gateway',
    503: '503 Service Temporarily Unavailable',
  };
  const title = titles[status] ?? `${status} Error`;
  return {
    status,
    contentType: 'text/html; charset=utf-8',
    body: `<html>\r\n<head><title>${title}</title></head>\r\n<body>\r\n<center><h1>${title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  };
}

/** Turns a good page into a broken one of the given kind. */
export function malformPage(
  kind: MalformedKind,
  gateway: SandboxGatewayName,
  good: Record<string, unknown>,
): RawReply {
  const payload = (gateway === 'qimen' ? good.response : good) as Record<string, unknown>;
  switch (kind) {
    case 'html':
      return {
        status: 200,
        contentType: 'text/html; charset=utf-8',
        body: '<!DOCTYPE html><html><head><title>系统维护中</title></head><body><h1>系统维护中，请稍后再试</h1></body></html>',
      };
    case 'broken_json': {
      const text = JSON.stringify(good);
      return {
        status: 200,
        contentType: JSON_TYPE,
        body: text.slice(0, Math.max(1, Math.floor(text.length / 2))),
      };
    }
    case 'missing_list': {
      const { stockout_list: _dropped, ...rest } = payload;
      return {
        status: 200,
        contentType: JSON_TYPE,
        body: JSON.stringify(gateway === 'qimen' ? { response: rest } : rest),
      };
    }
    case 'wrong_types': {
      const broken = {
        ...payload,
        total_count: { value: payload.total_count },
        stockout_list: { list: payload.stockout_list },
      };
      return {
        status: 200,
        contentType: JSON_TYPE,
        body: JSON.stringify(gateway === 'qimen' ? { response: broken } : broken),
      };
    }
    case 'empty_body':
      return { status: 200, contentType: JSON_TYPE, body: '' };
  }
}
