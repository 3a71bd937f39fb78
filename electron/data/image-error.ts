/** An image that could not be read; `message` names the file and says what is wrong. */
export class ImageReadError extends Error {
  constructor(readonly path: string, readonly reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'ImageReadError';
  }
}
