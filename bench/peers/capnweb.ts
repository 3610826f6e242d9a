// capnweb over a MessageChannel in this process: the same semantics as islet's boundary
// (stubs, promises, callbacks as capabilities), for comparing round-trip cost.

import { RpcTarget, newMessagePortRpcSession } from "capnweb";

class Api extends RpcTarget {
  ping(x: unknown) {
    return x;
  }
  echo(s: string) {
    return s;
  }
  async callback(n: number, cb: (i: number) => Promise<number>) {
    let acc = 0;
    for (let i = 0; i < n; i++) acc += await cb(i);
    return acc;
  }
  async relay(n: number, cb: (s: string) => Promise<string>, s: string) {
    let length = 0;
    for (let i = 0; i < n; i++) length += (await cb(s)).length;
    return length;
  }
}

export async function capnwebRpc() {
  const { port1, port2 } = new MessageChannel();
  newMessagePortRpcSession(port1, new Api());
  const stub = newMessagePortRpcSession<Api>(port2) as any;
  await stub.ping(1);
  return {
    ping: (x: unknown): Promise<unknown> => stub.ping(x),
    echo: (s: string): Promise<string> => stub.echo(s),
    callback: (n: number, cb: (i: number) => number): Promise<number> => stub.callback(n, cb),
    relay: (n: number, cb: (s: string) => string, s: string): Promise<number> => stub.relay(n, cb, s),
    close: async () => {
      stub[Symbol.dispose]?.();
      port1.close();
      port2.close();
    },
  };
}
