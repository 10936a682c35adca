// Vitest setup file: after each test file, kill the child processes it left running.

import { reapChildren } from '@handover/testkit';
import { afterAll } from 'vitest';

afterAll(() => reapChildren());
