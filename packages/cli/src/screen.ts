import type { Output } from './io.js';

const esc = '\x1b[';

/**
 * A terminal page redrawn in place, like `top`: the alternate screen while it runs, every
 * frame from the top-left corner, lines cut at the terminal's width (a wrapped line would
 * shift the next frame). `end` leaves the alternate screen and prints the last frame on the
 * normal one, so it stays in the scrollback (nothing if no frame was drawn).
 */
export class Screen {
  readonly #out: Output;
  #started = false;

  constructor(out: Output) {
    this.#out = out;
  }

  draw(lines: readonly string[]): void {
    if (!this.#started) {
      this.#started = true;
      this.#out.write(`${esc}?1049h${esc}?25l`);
    }
    const width = this.#out.columns ?? 0;
    const cut = (line: string) => (width > 0 && line.length > width ? line.slice(0, width) : line);
    this.#out.write(`${esc}H${lines.map((l) => `${cut(l)}${esc}K`).join('\n')}\n${esc}J`);
  }

  end(lastFrame: readonly string[]): void {
    if (!this.#started) return;
    this.#started = false;
    this.#out.write(`${esc}?25h${esc}?1049l${lastFrame.join('\n')}\n`);
  }
}
