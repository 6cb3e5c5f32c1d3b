'use strict';

// PIGATO 0.0.46 requires the native zmq@2.15 binding, which does not build on Node 20. zeromq@6 ships a
// prebuilt binary and a compatibility layer with the old API; these are the four fixes PIGATO needs on top, and a
// fifth for the CURVE interop tests.
const zmq = require('zeromq/v5-compat');
const Socket = zmq.Socket;

// 1. PIGATO's Client/Worker stop() reads socket._zmq.state, a field of the old binding.
Object.defineProperty(Socket.prototype, '_zmq', {
  get() {
    const socket = this;
    return {
      get state() {
        return socket.closed ? zmq.STATE_CLOSED : zmq.STATE_READY;
      },
    };
  },
});

// 2. The broker sets an identity on its PUB socket; zeromq@6 PUB/SUB sockets have no routing id and throw.
const setsockopt = Socket.prototype.setsockopt;
Socket.prototype.setsockopt = function (option, value) {
  const isIdentity = option === 'identity' || option === zmq.ZMQ_IDENTITY;
  if (isIdentity && (this.type === 'pub' || this.type === 'sub')) {
    return this;
  }
  return setsockopt.call(this, option, value);
};

// 3. Reading or writing a socket during an asynchronous unbind makes the v5-compat loops spin at 100 % CPU:
//    stop them for the unbind (PIGATO closes the socket in the unbind callback).
const unbind = Socket.prototype.unbind;
Socket.prototype.unbind = function (address, cb) {
  this.pause();
  return unbind.call(this, address, cb);
};

// 4. zmq@2.15 dropped messages still queued at close; v5-compat rejects them later as an uncaught error.
const close = Socket.prototype.close;
Socket.prototype.close = function () {
  this._sendQueue = [];
  this._msg = [];
  return close.call(this);
};
const send = Socket.prototype._send;
Socket.prototype._send = async function () {
  if (this.closed) {
    this._sendQueue = [];
    return;
  }
  try {
    await send.call(this);
  } catch (err) {
    if (!this.closed) {
      throw err;
    }
  }
};

// 5. CURVE for the interop tests (PIGATO 0.0.46 has none): with PIGATO_INTEROP_CURVE_SECRET_KEY (Z85) every ROUTER
//    is a CURVE server with that key; with PIGATO_INTEROP_CURVE_SERVER_KEY every DEALER is a CURVE client of that
//    server, with a key pair of its own. libzmq's own CURVE then meets Pigato's.
const curveSecretKey = process.env.PIGATO_INTEROP_CURVE_SECRET_KEY;
const curveServerKey = process.env.PIGATO_INTEROP_CURVE_SERVER_KEY;
const bind = Socket.prototype.bind;
Socket.prototype.bind = function (address, cb) {
  if (curveSecretKey && this.type === 'router') {
    this._socket.curveServer = true;
    this._socket.curveSecretKey = curveSecretKey;
  }
  return bind.call(this, address, cb);
};
const connect = Socket.prototype.connect;
Socket.prototype.connect = function (address) {
  if (curveServerKey && this.type === 'dealer') {
    const own = zmq.curveKeypair();
    this._socket.curveServerKey = curveServerKey;
    this._socket.curvePublicKey = own.public;
    this._socket.curveSecretKey = own.secret;
  }
  return connect.call(this, address);
};

module.exports = zmq;
