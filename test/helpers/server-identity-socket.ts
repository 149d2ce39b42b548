/**
 * A stand-in for the DTLS session layer in server tests: a DatagramSocket over plain UDP that adds a PSK `identity`
 * to the rinfo of datagrams from ports the test assigned one to (what the DTLS server does for authenticated
 * sessions). Lets the server's security rules be tested end to end without a handshake.
 */
import * as dgram from 'dgram';
import { EventEmitter } from 'events';
import { DatagramSocket } from '../../src/coap/types';

export class IdentitySocket extends EventEmitter implements DatagramSocket {
  /** source port -> identity */
  readonly identities = new Map<number, string>();
  private constructor(private readonly sock: dgram.Socket) {
    super();
    sock.on('message', (msg, rinfo) => {
      const identity = this.identities.get(rinfo.port);
      this.emit('message', msg, identity === undefined ? rinfo : { ...rinfo, identity });
    });
    sock.on('error', (e) => this.emit('error', e));
    sock.on('close', () => this.emit('close'));
  }

  static async open(address = '127.0.0.1'): Promise<IdentitySocket> {
    const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
    await new Promise<void>((resolve) => sock.bind(0, address, () => resolve()));
    return new IdentitySocket(sock);
  }

  send(msg: Buffer, port: number, address: string, callback?: (err: Error | null) => void): void {
    this.sock.send(msg, port, address, (err) => callback?.(err ?? null));
  }

  close(callback?: () => void): void {
    this.sock.close(callback);
  }

  address(): { address: string; port: number; family: string } {
    return this.sock.address();
  }
}
