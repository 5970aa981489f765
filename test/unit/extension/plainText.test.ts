import { strict as assert } from 'node:assert';
import { plainLabel, plainText } from '../../../extension/plainText';

// How VS Code finds links in a notification or a prompt (vs/base/common/linkedText.ts, parseLinkedText).
const VSCODE_LINK = /\[([^\]]+)\]\(((?:https?:\/\/|command:|file:)[^)\s]+)(?: (["'])(.+?)(\3))?\)/gi;
// How it finds icons in a status bar item's text (vs/base/common/iconLabels.ts): a backslash keeps `$(` as written.
const VSCODE_ICON = /(\\)?\$\(([A-Za-z0-9-]+(?:~[A-Za-z]+)?)\)/g;

describe('plain text for the window', () => {
  const hostile = [
    '[Rebuild index](command:runCommands?%7B%22commands%22%3A%5B%5D%7D)',
    'see [docs](https://example.com "title") and [x](file:///etc/passwd)',
    '[[nested]](command:loom.setApiKey)',
    '[a](command:x)[b](command:y)',
    'a ]( b',
  ];

  it('leaves nothing VS Code would make a link, and keeps the words', () => {
    assert.equal([...hostile.join(' ').matchAll(VSCODE_LINK)].length, 5, 'the links as VS Code finds them before');
    for (const text of hostile) {
      const shown = plainText(text);
      assert.deepEqual([...shown.matchAll(VSCODE_LINK)], [], shown);
      assert.equal(shown.replace(/\] \(/g, ']('), text);
    }
    assert.equal(plainText('agent alpha failed: exit 1'), 'agent alpha failed: exit 1');
  });

  it('shows $(icon) in a status bar label as written, links taken apart too', () => {
    const shown = plainLabel('$(check) Loom: trusted [go](command:x)');
    assert.deepEqual(
      [...shown.matchAll(VSCODE_ICON)].filter((m) => m[1] === undefined),
      [],
    );
    assert.equal(shown, '\\$(check) Loom: trusted [go] (command:x)');
    assert.deepEqual([...shown.matchAll(VSCODE_LINK)], []);
  });
});
