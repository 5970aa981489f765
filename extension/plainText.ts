// Text from outside the extension as the window shows it: as written, never as a link or an icon.

/** `text` with nothing VS Code would turn into a link in a notification or a prompt (`](` is where one starts). */
export function plainText(text: string): string {
  return text.replace(/\]\(/g, '] (');
}

/** `text` for a status bar item, where `$(name)` is also drawn as an icon (a backslash keeps it as written). */
export function plainLabel(text: string): string {
  return plainText(text).replace(/\$\(/g, '\\$(');
}
