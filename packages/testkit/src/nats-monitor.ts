/**
 * Reading a nats-server's monitoring endpoint (`-m <port>`): the test kit finds JetStream
 * leaders and checks that a cluster has formed without a NATS client of its own.
 */

/** The part of `/jsz?accounts=true&streams=true&consumers=true` the kit reads. */
export interface Jsz {
  readonly meta_cluster?: {
    readonly name?: string;
    readonly leader?: string;
    readonly cluster_size?: number;
  };
  readonly account_details?: readonly {
    readonly name: string;
    readonly stream_detail?: readonly {
      readonly name: string;
      readonly cluster?: { readonly leader?: string };
      readonly consumer_detail?: readonly {
        readonly name: string;
        readonly cluster?: { readonly leader?: string };
      }[];
    }[];
  }[];
}

/** GETs `path` of the monitoring endpoint on `port` and parses the JSON (any HTTP status). */
export async function monitorJson<T>(port: number, path: string, timeoutMs = 2000): Promise<T> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, {
    signal: AbortSignal.timeout(timeoutMs),
  });
  return (await response.json()) as T;
}

/** What a node answers on `/healthz`: `ok`, or why JetStream is not current yet. */
export async function health(port: number): Promise<string> {
  try {
    const body = await monitorJson<{ status?: string; error?: string }>(port, '/healthz');
    return body.status === 'ok' ? 'ok' : (body.error ?? JSON.stringify(body));
  } catch (error) {
    return (error as Error).message;
  }
}

/** A JetStream asset whose leader is asked for: a stream, or a consumer of one. */
export interface Asset {
  readonly stream: string;
  readonly consumer?: string;
  /** @default '$G' (the global account of a server without accounts) */
  readonly account?: string;
}

/** The leader of `asset` as `jsz` (one node's view) reports it, if it reports one. */
export function leaderIn(jsz: Jsz, asset: Asset): string | undefined {
  const account = jsz.account_details?.find((a) => a.name === (asset.account ?? '$G'));
  const stream = account?.stream_detail?.find((s) => s.name === asset.stream);
  if (asset.consumer === undefined) return stream?.cluster?.leader || undefined;
  const consumer = stream?.consumer_detail?.find((c) => c.name === asset.consumer);
  return consumer?.cluster?.leader || undefined;
}

/** `/jsz` with every stream and consumer of every account. */
export const jszPath = '/jsz?accounts=true&streams=true&consumers=true';
