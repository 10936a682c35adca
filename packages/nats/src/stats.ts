/** The per-endpoint counters of the micro protocol's STATS response (ADR-32). */
export interface EndpointStatsJson {
  readonly name: string;
  readonly subject: string;
  readonly queue_group: string;
  readonly num_requests: number;
  readonly num_errors: number;
  readonly last_error: string;
  /** Total handler time, nanoseconds. */
  readonly processing_time: number;
  /** `processing_time / num_requests`, truncated; 0 without requests. */
  readonly average_processing_time: number;
  readonly data?: unknown;
}

/** Counts requests, errors and processing time of one endpoint. */
export class EndpointStats {
  readonly name: string;
  readonly subject: string;
  readonly queueGroup: string;
  #requests = 0;
  #errors = 0;
  #lastError = '';
  #processingMs = 0;

  constructor(name: string, subject: string, queueGroup: string) {
    this.name = name;
    this.subject = subject;
    this.queueGroup = queueGroup;
  }

  request(): void {
    this.#requests++;
  }

  /** Records one handled request: its start (`performance.now()`) and any error. */
  done(started: number, error?: string): void {
    this.#processingMs += performance.now() - started;
    if (error !== undefined) {
      this.#errors++;
      this.#lastError = error;
    }
  }

  toJSON(data?: unknown): EndpointStatsJson {
    const total = Math.round(this.#processingMs * 1e6);
    return {
      name: this.name,
      subject: this.subject,
      queue_group: this.queueGroup,
      num_requests: this.#requests,
      num_errors: this.#errors,
      last_error: this.#lastError,
      processing_time: total,
      average_processing_time: this.#requests === 0 ? 0 : Math.trunc(total / this.#requests),
      ...(data === undefined ? {} : { data }),
    };
  }
}
