import { en, type Messages } from './en.ts';

/** The UI's strings; a language picker would swap this for a translation of the same shape. */
export const t: Messages = en;
