import { cleanup, fireEvent, render, screen } from '@testing-library/preact';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LiveCall } from '../model.js';
import { Filters } from './Filters.js';
import { JoinMenu } from './JoinMenu.js';
import { QualityBadge } from './QualityBadge.js';

afterEach(cleanup);

const base: LiveCall = {
  id: 'c1',
  state: 'answered',
  direction: 'inbound',
  startedAt: new Date().toISOString(),
  answeredAt: new Date().toISOString(),
  durationSec: 0,
  agent: '1001',
  agentName: 'Alice',
  remote: { number: '555', name: null },
  tags: [],
  groups: [],
  hand: { raised: false, raisedAt: null, by: null },
  monitors: [],
};

describe('JoinMenu', () => {
  it('offers the allowed modes with the audio device, and joins with the choice', () => {
    const onJoin = vi.fn();
    render(
      <JoinMenu
        call={{ ...base, join: { modes: ['listen', 'whisper'], refusal: null } }}
        busy={false}
        onJoin={onJoin}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Join' }));
    expect(screen.getByRole('button', { name: 'Listen only' })).toHaveProperty('disabled', false);
    expect(screen.getByRole('button', { name: 'Talk to agent' })).toHaveProperty('disabled', false);
    expect(screen.getByRole('button', { name: 'Talk to both' })).toHaveProperty('disabled', true);
    expect(screen.getByRole('button', { name: 'Take over' })).toHaveProperty('disabled', true);
    fireEvent.click(screen.getByLabelText('My desk phone'));
    fireEvent.click(screen.getByRole('button', { name: 'Talk to agent' }));
    expect(onJoin).toHaveBeenCalledWith('whisper', 'phone');
  });

  it('is disabled with the reason in words when the server would refuse', () => {
    render(
      <JoinMenu
        call={{
          ...base,
          join: { modes: [], refusal: { code: 'member-forbids', message: 'x' } },
        }}
        busy={false}
        onJoin={() => {}}
      />,
    );
    const join = screen.getByRole('button', { name: 'Join' });
    expect(join).toHaveProperty('disabled', true);
    expect(screen.getByTestId('join-reason').textContent).toBe(
      'This agent has opted out of being monitored.',
    );
    expect(join.getAttribute('aria-describedby')).toBe('join-reason-c1');
  });

  it('is disabled while this supervisor monitors another call', () => {
    render(<JoinMenu call={base} busy onJoin={() => {}} />);
    expect(screen.getByRole('button', { name: 'Join' })).toHaveProperty('disabled', true);
    expect(screen.getByTestId('join-reason').textContent).toMatch(/already monitoring/);
  });
});

describe('QualityBadge', () => {
  it('shows the rating, with each leg on hover', () => {
    const leg = { lossPct: 5, jitterMs: 20, mos: 3.1, rating: 'poor' as const };
    render(<QualityBadge quality={{ rating: 'poor', legs: { customer: leg } }} />);
    const badge = screen.getByText('poor');
    expect(badge.dataset.quality).toBe('poor');
    expect(badge.getAttribute('title')).toBe('Customer: poor, loss 5.0 %, jitter 20 ms, MOS 3.1');
  });

  it('shows nothing measured as a dash', () => {
    render(<QualityBadge quality={undefined} />);
    expect(screen.getByText('—')).toBeTruthy();
  });
});

describe('Filters', () => {
  it('reports each change and clears them all', () => {
    const onChange = vi.fn();
    const { rerender } = render(
      <Filters
        filter={{}}
        choices={{ agents: ['1001'], groups: ['sales'], tags: ['vip'], queues: ['600'] }}
        onChange={onChange}
      />,
    );
    fireEvent.change(screen.getByLabelText('Agent'), { target: { value: '1001' } });
    expect(onChange).toHaveBeenLastCalledWith({ agent: '1001' });
    fireEvent.change(screen.getByLabelText('Queue'), { target: { value: '600' } });
    expect(onChange).toHaveBeenLastCalledWith({ queue: '600' });
    fireEvent.click(screen.getByLabelText('Raised hands only'));
    expect(onChange).toHaveBeenLastCalledWith({ hand: true });
    fireEvent.input(screen.getByLabelText('Min. duration (s)'), { target: { value: '30' } });
    expect(onChange).toHaveBeenLastCalledWith({ minDurationSec: 30 });
    rerender(
      <Filters
        filter={{ tag: 'vip' }}
        choices={{ agents: [], groups: [], tags: ['vip'], queues: [] }}
        onChange={onChange}
      />,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Clear filters' }));
    expect(onChange).toHaveBeenLastCalledWith({});
  });
});
