import { mount } from '@vue/test-utils';
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, it } from 'vitest';
import { nextTick } from 'vue';
import type { ApiRequest, ApiResponses } from '../../../electron/api.ts';
import { setApi } from '../../../renderer/src/api/index.ts';
import ExportDialog from '../../../renderer/src/components/ExportDialog.vue';
import { useJobsStore } from '../../../renderer/src/stores/jobs.ts';
import { useModelStore } from '../../../renderer/src/stores/model.ts';
import { FakeApi } from './fake-api.ts';

/** A back end started with KIZU_REDIS_URL: its engine info names the queue (without the password). */
class QueueFakeApi extends FakeApi {
  override async engineInfo(r: ApiRequest<'engineInfo'>): Promise<ApiResponses['engineInfo']> {
    return { ...(await super.engineInfo(r)), queue: { url: 'rediss://:***@queue.plant:6380' } };
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await Promise.resolve();
    await nextTick();
  }
}

async function dialogWith(fake: FakeApi) {
  setApi(fake);
  setActivePinia(createPinia());
  await useJobsStore().connect();
  await useModelStore().refreshEngine();
  const wrapper = mount(ExportDialog);
  await settle();
  return wrapper;
}

beforeEach(() => localStorage.clear());

describe('the export dialog and the work queue', () => {
  it('offers the queue only where the back end has one', async () => {
    const wrapper = await dialogWith(new FakeApi(3));
    expect(wrapper.find('[data-testid="export-queue"]').exists()).toBe(false);
  });

  it('sends the whole folder to the configured queue and shows the batch\'s progress line', async () => {
    const fake = new QueueFakeApi(3);
    const wrapper = await dialogWith(fake);
    const radio = wrapper.find('[data-testid="export-queue"]');
    expect(radio.exists()).toBe(true);
    expect(wrapper.text()).toContain('rediss://:***@queue.plant:6380');
    await radio.setValue(true);
    await wrapper.find('[data-testid="export-dir"]').setValue('/exports/line-3');
    await wrapper.find('form').trigger('submit');
    await settle();
    expect(fake.calls.startExport).toHaveLength(1);
    expect(fake.calls.startExport![0]).toMatchObject({ outDir: '/exports/line-3', queue: true });
    fake.emit({ jobId: 'export-1', kind: 'export', state: 'running', done: 256, total: 1000, etaSeconds: 600, message: 'batch-x: 256/1,000 images (25.6 %), 1/4 chunks done, 1 running, 0 failed; 2.10 images/s, ETA 6 min; merge waits for the chunks' });
    await settle();
    expect(wrapper.find('[data-testid="export-queue-status"]').text()).toContain('ETA 6 min');
  });
});
