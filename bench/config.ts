/**
 * Sizes of a run. `full` is `npm run bench` (a few minutes), `quick` is for CI (`--quick` or BENCH_QUICK=1, under a
 * minute), `smoke` is the test's (tiny counts: the code runs, the figures mean nothing).
 */
export type Mode = 'full' | 'quick' | 'smoke';

export interface BenchConfig {
  mode: Mode;
  /** Repetitions of each figure. */
  reps: number;
  /** Repetitions of the burst storm (each waits for the devices' retransmissions). */
  burstReps: number;
  /**
   * Requests in flight (load side, and the server's own window for Reads). 128 keeps a burst within Linux's default
   * socket receive buffer (208 KiB: about 160 datagrams of this size); `burstWindow` goes beyond it on purpose.
   */
  window: number;
  burstWindow: number;
  /** Sockets of the baseline loops. */
  baselineSockets: number;
  /** Length of each timed repetition (baselines, reads, notifications), ms. */
  runMs: number;
  /** Registrations per storm repetition (ours and the peer: the same storm). */
  stormN: number;
  /** Devices per load-side socket in storms (1 per socket where fds allow would be 1). */
  perSocket: number;
  /** Registrations before a storm, not measured (JIT warm-up). */
  warmupN: number;
  peerReps: number;
  /** Devices registered for the Read and notification runs. */
  devices: number;
  /** Registrations for the memory figure (and repetitions of it). */
  memoryN: number;
  memoryReps: number;
  /** 1,000,000 (0: skipped). */
  millionN: number;
  /** DTLS handshakes per repetition, their window, and devices connected for encrypted Reads. */
  dtlsHandshakes: number;
  dtlsWindow: number;
  dtlsDevices: number;
  /** Time per codec repetition, ms. */
  codecMs: number;
  /** Virtual clients of the fleet figure. */
  fleetN: number;
}

export function configFor(mode: Mode): BenchConfig {
  switch (mode) {
    case 'full':
      return {
        mode, reps: 5, burstReps: 3, window: 128, burstWindow: 1024, baselineSockets: 16, runMs: 1500, stormN: 10_000, perSocket: 100, warmupN: 2000,
        peerReps: 3, devices: 10_000, memoryN: 100_000, memoryReps: 2, millionN: 1_000_000, dtlsHandshakes: 2000,
        dtlsWindow: 64, dtlsDevices: 500, codecMs: 300, fleetN: 10_000,
      };
    case 'quick':
      return {
        mode, reps: 3, burstReps: 1, window: 128, burstWindow: 1024, baselineSockets: 16, runMs: 500, stormN: 2000, perSocket: 100, warmupN: 1000,
        peerReps: 3, devices: 2000, memoryN: 20_000, memoryReps: 1, millionN: 0, dtlsHandshakes: 200, dtlsWindow: 32,
        dtlsDevices: 100, codecMs: 40, fleetN: 1000,
      };
    case 'smoke':
      return {
        mode, reps: 1, burstReps: 1, window: 16, burstWindow: 64, baselineSockets: 2, runMs: 150, stormN: 60, perSocket: 10, warmupN: 20,
        peerReps: 1, devices: 40, memoryN: 300, memoryReps: 1, millionN: 0, dtlsHandshakes: 6, dtlsWindow: 3,
        dtlsDevices: 4, codecMs: 10, fleetN: 20,
      };
  }
}
