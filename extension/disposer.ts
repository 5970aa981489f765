// Disposables kept together and disposed in reverse order: the extension's lifetime and each
// runtime session's have one each (see loom.ts).
import type * as vscode from 'vscode';

export class Disposer implements vscode.Disposable {
  private items: vscode.Disposable[] = [];

  add<T extends vscode.Disposable>(d: T): T {
    this.items.push(d);
    return d;
  }

  dispose(): void {
    for (const d of this.items.splice(0).reverse()) {
      try {
        d.dispose();
      } catch {
        // one failing disposal must not keep the others from running
      }
    }
  }
}
