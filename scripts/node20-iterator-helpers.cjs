// Allure 3's quality gate calls Iterator.prototype.toArray (Node 22); this suite runs on Node 20.
// Loaded with --require by `npm run report:quality-gate` only.
const proto = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
if (typeof proto.toArray !== 'function') {
  Object.defineProperty(proto, 'toArray', {
    value() {
      return Array.from(this);
    },
    configurable: true,
    writable: true,
  });
}
