/** The Call Monitor's filters: duration, agent, group, queue, direction, tag, raised hand. */
import { DIRECTION_LABELS, type CallFilter, type Direction } from '../model.js';

export interface FilterChoices {
  agents: string[];
  groups: string[];
  tags: string[];
  queues: string[];
}

export function Filters({
  filter,
  choices,
  onChange,
}: {
  filter: CallFilter;
  choices: FilterChoices;
  onChange(f: CallFilter): void;
}) {
  const set = <K extends keyof CallFilter>(key: K, value: CallFilter[K] | undefined) => {
    const next = { ...filter };
    if (value === undefined) delete next[key];
    else next[key] = value;
    onChange(next);
  };
  const text = (v: string) => (v === '' ? undefined : v);
  const num = (v: string) => (v === '' || !Number.isFinite(Number(v)) ? undefined : Number(v));
  return (
    <form class="filters" aria-label="Filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        Min. duration (s)
        <input
          name="minDuration"
          type="number"
          min={0}
          value={filter.minDurationSec ?? ''}
          onInput={(e) => set('minDurationSec', num(e.currentTarget.value))}
        />
      </label>
      <label>
        Max. duration (s)
        <input
          name="maxDuration"
          type="number"
          min={0}
          value={filter.maxDurationSec ?? ''}
          onInput={(e) => set('maxDurationSec', num(e.currentTarget.value))}
        />
      </label>
      <Choice
        label="Agent"
        name="agent"
        value={filter.agent}
        options={choices.agents}
        onPick={(v) => set('agent', text(v))}
      />
      <Choice
        label="Group"
        name="group"
        value={filter.group}
        options={choices.groups}
        onPick={(v) => set('group', text(v))}
      />
      <Choice
        label="Queue"
        name="queue"
        value={filter.queue}
        options={choices.queues}
        onPick={(v) => set('queue', text(v))}
      />
      <label>
        Direction
        <select
          name="direction"
          value={filter.direction ?? ''}
          onChange={(e) => set('direction', text(e.currentTarget.value) as Direction | undefined)}
        >
          <option value="">Any</option>
          {(Object.keys(DIRECTION_LABELS) as Direction[]).map((d) => (
            <option key={d} value={d}>
              {DIRECTION_LABELS[d]}
            </option>
          ))}
        </select>
      </label>
      <Choice
        label="Tag"
        name="tag"
        value={filter.tag}
        options={choices.tags}
        onPick={(v) => set('tag', text(v))}
      />
      <label class="check">
        <input
          name="hand"
          type="checkbox"
          checked={filter.hand === true}
          onChange={(e) => set('hand', e.currentTarget.checked ? true : undefined)}
        />
        Raised hands only
      </label>
      <button
        type="button"
        onClick={() => onChange({})}
        disabled={Object.keys(filter).length === 0}
      >
        Clear filters
      </button>
    </form>
  );
}

function Choice(props: {
  label: string;
  name: string;
  value: string | undefined;
  options: string[];
  onPick(v: string): void;
}) {
  // The chosen value stays offered when no call on screen has it any more.
  const options =
    props.value !== undefined && !props.options.includes(props.value)
      ? [...props.options, props.value]
      : props.options;
  return (
    <label>
      {props.label}
      <select
        name={props.name}
        value={props.value ?? ''}
        onChange={(e) => props.onPick(e.currentTarget.value)}
      >
        <option value="">Any</option>
        {options.map((o) => (
          <option key={o} value={o}>
            {o}
          </option>
        ))}
      </select>
    </label>
  );
}
