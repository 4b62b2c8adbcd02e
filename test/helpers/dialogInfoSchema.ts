/**
 * Checks an `application/dialog-info+xml` document against the RFC 4235 §4.1 schema,
 * element by element, with fast-xml-parser (well-formedness by its XMLValidator, then
 * the structure from an order-preserving parse). What is compared, per the XSD of
 * RFC 4235 §4.1:
 *
 * - root `dialog-info` in namespace urn:ietf:params:xml:ns:dialog-info, attributes
 *   `version` (nonNegativeInteger), `state` (full | partial) and `entity` (anyURI), all
 *   required; children: `dialog` elements only;
 * - `dialog`: `id` required, `call-id`, `local-tag`, `remote-tag`, `direction`
 *   (initiator | recipient) optional, nothing else; children in the schema's sequence
 *   state, duration?, replaces?, referred-by?, route-set?, local?, remote?, with `state`
 *   exactly once;
 * - `state`: text trying | proceeding | early | confirmed | terminated, optional `event`
 *   (cancelled | rejected | replaced | local-bye | remote-bye | error | timeout) and `code`
 *   (an integer 100–699);
 * - `local` / `remote` (participant): identity?, target?, session-description?, cseq?
 *   in that order; `identity` text a URI, optional `display`; `target` with a required
 *   `uri` and only `param` children (pname, pval).
 *
 * Returns the problems found (empty: valid). Extension elements of other namespaces,
 * which the schema allows (`##other`), are not produced by callwatch and count as errors.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export const DIALOG_INFO_NS = 'urn:ietf:params:xml:ns:dialog-info';

type Node = Record<string, unknown> & { ':@'?: Record<string, string> };

const STATES = ['trying', 'proceeding', 'early', 'confirmed', 'terminated'];
const EVENTS = ['cancelled', 'rejected', 'replaced', 'local-bye', 'remote-bye', 'error', 'timeout'];
const DIALOG_CHILDREN = [
  'state',
  'duration',
  'replaces',
  'referred-by',
  'route-set',
  'local',
  'remote',
];
const PARTICIPANT_CHILDREN = ['identity', 'target', 'session-description', 'cseq'];
const URI = /^[a-zA-Z][a-zA-Z0-9+.-]*:\S+$/;

function nameOf(node: Node): string {
  return Object.keys(node).find((k) => k !== ':@') as string;
}

function childrenOf(node: Node): Node[] {
  const v = node[nameOf(node)];
  return Array.isArray(v) ? (v as Node[]) : [];
}

function textOf(node: Node): string {
  return childrenOf(node)
    .map((c) =>
      typeof c['#text'] === 'string' || typeof c['#text'] === 'number' ? String(c['#text']) : '',
    )
    .join('');
}

function attrsOf(node: Node): Record<string, string> {
  return node[':@'] ?? {};
}

function elements(node: Node): Node[] {
  return childrenOf(node).filter((c) => nameOf(c) !== '#text');
}

function checkAttrs(
  where: string,
  attrs: Record<string, string>,
  required: readonly string[],
  optional: readonly string[],
  errors: string[],
): void {
  for (const r of required) if (attrs[r] === undefined) errors.push(`${where}: missing @${r}`);
  for (const a of Object.keys(attrs)) {
    if (!required.includes(a) && !optional.includes(a)) errors.push(`${where}: unexpected @${a}`);
  }
}

function checkSequence(
  where: string,
  kids: Node[],
  order: readonly string[],
  errors: string[],
): void {
  let at = -1;
  const seen = new Set<string>();
  for (const k of kids) {
    const name = nameOf(k);
    const i = order.indexOf(name);
    if (i < 0) errors.push(`${where}: unexpected <${name}>`);
    else if (i < at || seen.has(name)) errors.push(`${where}: <${name}> out of the schema's order`);
    else at = i;
    seen.add(name);
  }
}

function checkParticipant(where: string, node: Node, errors: string[]): void {
  checkAttrs(where, attrsOf(node), [], [], errors);
  const kids = elements(node);
  checkSequence(where, kids, PARTICIPANT_CHILDREN, errors);
  for (const k of kids) {
    const name = nameOf(k);
    if (name === 'identity') {
      checkAttrs(`${where}/identity`, attrsOf(k), [], ['display'], errors);
      if (!URI.test(textOf(k).trim())) errors.push(`${where}/identity: not a URI: "${textOf(k)}"`);
    } else if (name === 'target') {
      checkAttrs(`${where}/target`, attrsOf(k), ['uri'], [], errors);
      const uri = attrsOf(k).uri;
      if (uri !== undefined && !URI.test(uri)) errors.push(`${where}/target: @uri not a URI`);
      for (const p of elements(k)) {
        if (nameOf(p) !== 'param') errors.push(`${where}/target: unexpected <${nameOf(p)}>`);
        else checkAttrs(`${where}/target/param`, attrsOf(p), ['pname', 'pval'], [], errors);
      }
    }
  }
}

function checkDialog(where: string, node: Node, errors: string[]): void {
  checkAttrs(
    where,
    attrsOf(node),
    ['id'],
    ['call-id', 'local-tag', 'remote-tag', 'direction'],
    errors,
  );
  const direction = attrsOf(node).direction;
  if (direction !== undefined && direction !== 'initiator' && direction !== 'recipient') {
    errors.push(`${where}: @direction "${direction}"`);
  }
  const kids = elements(node);
  checkSequence(where, kids, DIALOG_CHILDREN, errors);
  const states = kids.filter((k) => nameOf(k) === 'state');
  if (states.length !== 1) errors.push(`${where}: ${states.length} <state> elements, need 1`);
  for (const s of states) {
    checkAttrs(`${where}/state`, attrsOf(s), [], ['event', 'code'], errors);
    if (!STATES.includes(textOf(s).trim())) errors.push(`${where}/state: "${textOf(s)}"`);
    const { event, code } = attrsOf(s);
    if (event !== undefined && !EVENTS.includes(event))
      errors.push(`${where}/state: @event "${event}"`);
    if (code !== undefined && !(/^\d+$/.test(code) && Number(code) >= 100 && Number(code) <= 699)) {
      errors.push(`${where}/state: @code "${code}"`);
    }
  }
  for (const k of kids) {
    const name = nameOf(k);
    if (name === 'local' || name === 'remote') checkParticipant(`${where}/${name}`, k, errors);
    if (name === 'duration' && !/^\d+$/.test(textOf(k).trim())) errors.push(`${where}/duration`);
    if (name === 'replaces') {
      checkAttrs(
        `${where}/replaces`,
        attrsOf(k),
        ['call-id', 'local-tag', 'remote-tag'],
        [],
        errors,
      );
    }
  }
}

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
});

export function dialogInfoProblems(xml: string): string[] {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) return [`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`];
  const errors: string[] = [];
  const top = (parser.parse(xml) as Node[]).filter((n) => !['?xml', '#text'].includes(nameOf(n)));
  if (top.length !== 1 || nameOf(top[0] as Node) !== 'dialog-info') {
    return [`root is not one <dialog-info>: ${top.map(nameOf).join(', ')}`];
  }
  const root = top[0] as Node;
  const attrs = attrsOf(root);
  checkAttrs('dialog-info', attrs, ['xmlns', 'version', 'state', 'entity'], [], errors);
  if (attrs.xmlns !== DIALOG_INFO_NS) errors.push(`dialog-info: namespace "${attrs.xmlns}"`);
  if (attrs.version !== undefined && !/^\d+$/.test(attrs.version))
    errors.push('dialog-info: @version');
  if (attrs.state !== 'full' && attrs.state !== 'partial')
    errors.push(`dialog-info: @state "${attrs.state}"`);
  if (attrs.entity !== undefined && !URI.test(attrs.entity))
    errors.push('dialog-info: @entity not a URI');
  elements(root).forEach((d, i) => {
    if (nameOf(d) !== 'dialog') errors.push(`dialog-info: unexpected <${nameOf(d)}>`);
    else checkDialog(`dialog[${i}]`, d, errors);
  });
  return errors;
}

/** A dialog of a document, flattened for assertions. */
export interface DialogSummary {
  id: string;
  state: string;
  event?: string;
  direction?: string;
  callId?: string;
  localTag?: string;
  remoteTag?: string;
  localIdentity?: string;
  remoteIdentity?: string;
  remoteDisplay?: string;
  remoteTarget?: string;
}

export interface DialogInfoSummary {
  version: number;
  state: string;
  entity: string;
  dialogs: DialogSummary[];
}

/** Reads a (valid) document into plain values. */
export function summarizeDialogInfo(xml: string): DialogInfoSummary {
  const top = (parser.parse(xml) as Node[]).find((n) => nameOf(n) === 'dialog-info') as Node;
  const a = attrsOf(top);
  const dialogs = elements(top).map((d): DialogSummary => {
    const da = attrsOf(d);
    const kid = (name: string): Node | undefined => elements(d).find((k) => nameOf(k) === name);
    const sub = (p: Node | undefined, name: string): Node | undefined =>
      p === undefined ? undefined : elements(p).find((k) => nameOf(k) === name);
    const state = kid('state') as Node;
    const remote = kid('remote');
    const out: DialogSummary = { id: da.id as string, state: textOf(state).trim() };
    const set = (k: keyof DialogSummary, v: string | undefined): void => {
      if (v !== undefined) (out as unknown as Record<string, string>)[k] = v;
    };
    set('event', attrsOf(state).event);
    set('direction', da.direction);
    set('callId', da['call-id']);
    set('localTag', da['local-tag']);
    set('remoteTag', da['remote-tag']);
    const li = sub(kid('local'), 'identity');
    set('localIdentity', li === undefined ? undefined : textOf(li).trim());
    const ri = sub(remote, 'identity');
    set('remoteIdentity', ri === undefined ? undefined : textOf(ri).trim());
    set('remoteDisplay', ri === undefined ? undefined : attrsOf(ri).display);
    const rt = sub(remote, 'target');
    set('remoteTarget', rt === undefined ? undefined : attrsOf(rt).uri);
    return out;
  });
  return {
    version: Number(a.version),
    state: a.state as string,
    entity: a.entity as string,
    dialogs,
  };
}
