/**
 * A datagram socket that can stop hearing: a client in queue mode "sleeps" (OMA TS Transport 1.1 / 1.2 "Queue Mode
 * Operation") by no longer receiving anything until it has something to send, as a device that turns its radio off
 * would. Wraps a node:dgram socket (or any DatagramSocket) and forwards 'message' only while at least one of its users
 * (the server sessions sharing the socket) is awake. Sending is never blocked: a session wakes before it sends.
 */
import { EventEmitter } from 'events';
import { DatagramSocket, Peer } from '../coap/types';

export class GatedSocket extends EventEmitter implements DatagramSocket {
  private readonly users = new Set<object>();
  private readonly awake = new Set<object>();
  /** Datagrams dropped while asleep. */
  dropped = 0;

  constructor(readonly inner: DatagramSocket) {
    super();
    inner.on('message', (msg: Buffer, rinfo: Peer) => {
      if (this.asleep) { this.dropped++; return; }
      this.emit('message', msg, rinfo);
    });
    inner.on('error', (err: Error) => { if (this.listenerCount('error') > 0) this.emit('error', err); });
    inner.on('close', (...args: unknown[]) => this.emit('close', ...args));
  }

  /** True when every user sleeps (a socket nobody uses yet hears everything). */
  get asleep(): boolean {
    return this.users.size > 0 && this.awake.size === 0;
  }

  /** A user (awake) starts sharing the socket. */
  join(user: object): void {
    this.users.add(user);
    this.awake.add(user);
  }

  leave(user: object): void {
    this.users.delete(user);
    this.awake.delete(user);
  }

  sleep(user: object): void {
    if (this.users.has(user)) this.awake.delete(user);
  }

  wake(user: object): void {
    if (this.users.has(user)) this.awake.add(user);
  }

  send(msg: Buffer, port: number, address: string, callback?: (err: Error | null) => void): void {
    this.inner.send(msg, port, address, callback);
  }

  close(callback?: () => void): void {
    this.inner.close(callback);
  }

  address(): { address: string; port: number; family: string } {
    return this.inner.address();
  }
}
