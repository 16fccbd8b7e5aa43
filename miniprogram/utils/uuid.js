// RFC 4122 version-4 UUIDs for client_id and client_photo_id. These are idempotency keys, not
// secrets, so Math.random is enough (the mini-program has no synchronous crypto source).

function uuid4() {
  const hex = [];
  for (let i = 0; i < 32; i += 1) hex.push(Math.floor(Math.random() * 16));
  hex[12] = 4;
  hex[16] = (hex[16] & 0x3) | 0x8; // eslint-disable-line no-bitwise
  const s = hex.map((n) => n.toString(16)).join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

module.exports = { uuid4 };
