/** A call's audio quality: good / fair / poor, with each leg's loss, jitter and MOS on hover. */
import { qualityLines, type CallQuality } from '../model.js';

export function QualityBadge({ quality }: { quality: CallQuality | null | undefined }) {
  if (!quality) return <span class="muted">—</span>;
  const lines = qualityLines(quality);
  return (
    <span
      class={`quality quality-${quality.rating}`}
      data-quality={quality.rating}
      title={lines.join('\n')}
      aria-label={`Quality ${quality.rating}. ${lines.join('. ')}`}
    >
      {quality.rating}
    </span>
  );
}
