/** What a stream server says about one stream (camera), whichever server it is. */
export interface StreamStat {
  /** The stream label: the stream (path) name the camera publishes to. */
  readonly name: string;
  /** True while a publisher is sending media. */
  readonly up: boolean;
  readonly bitrateBitsPerSecond: number;
  /** Clients playing the stream, the publisher not counted. */
  readonly readers: number;
}

/** Reads every stream a stream server lists from its stats URL; rejects with a StreamStatsError. */
export type StreamStatsSource = (url: URL, signal: AbortSignal) => Promise<StreamStat[]>;
