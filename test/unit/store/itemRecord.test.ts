import { strict as assert } from 'node:assert';
import { decodeItem, encodeItem } from '../../../runtime/store/itemRecord';
import type { ContextItem } from '../../../runtime/store/types';

const item = (over: Partial<ContextItem> = {}): ContextItem => ({
  id: 'id-1',
  sessionId: 'agent:alice',
  type: 'turn',
  content: 'héllo \u0001\u001b[31m red 🎉',
  metadata: { role: 'user', '': 'empty key', __proto__x: 'y' },
  timestampMs: 1_796_000_000_123,
  ...over,
});

describe('store: a context item as kept in LevelDB', () => {
  it('reads back what it wrote, field for field', () => {
    for (const it of [item(), item({ content: '', metadata: {} }), item({ timestampMs: 0 })])
      assert.deepEqual(decodeItem(encodeItem(it)), it);
  });

  it('takes the bytes of the fields, not six for a control character as JSON does', () => {
    const it = item({ content: '\u0001'.repeat(100_000), metadata: { k: '\u0000'.repeat(1000) } });
    const bytes = encodeItem(it).length;
    assert.ok(bytes < 101_100, `${bytes} bytes`);
    assert.ok(Buffer.byteLength(JSON.stringify(it)) > 6 * 100_000);
  });

  it('makes a metadata key "__proto__" an entry, not a prototype, as JSON.parse does', () => {
    const back = decodeItem(
      encodeItem(
        item({
          metadata: Object.fromEntries([
            ['__proto__', 'plain'],
            ['a', 'b'],
          ]),
        }),
      ),
    );
    assert.deepEqual(Object.keys(back.metadata), ['__proto__', 'a']);
    assert.equal(Object.getPrototypeOf(back.metadata), Object.prototype);
  });

  it('reads items written as JSON before, and keeps one with a lone surrogate as JSON, exactly', () => {
    const old = item();
    assert.deepEqual(decodeItem(Buffer.from(JSON.stringify(old), 'utf8')), old);
    const lone = item({ content: 'a\uD800b' });
    const value = encodeItem(lone);
    assert.equal(value[0], '{'.charCodeAt(0));
    assert.deepEqual(decodeItem(value), lone);
  });

  it('says what is wrong with a value that holds no item', () => {
    assert.throws(() => decodeItem(Buffer.from([7, 1, 2])), /neither a record nor JSON \(3 bytes\)/);
    const cut = encodeItem(item());
    assert.throws(() => decodeItem(cut.subarray(0, cut.length - 3)), /cut short/);
  });
});
