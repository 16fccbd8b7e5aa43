const { installFakeWx, settle, problem } = require('../helpers/fake-wx');
const { loadPage } = require('../helpers/page-harness');
const config = require('../../utils/config');
const logic = require('../../resident/help/logic');
const { resetConfigCache } = require('../../utils/app-config');

config.RETRY.baseDelayMs = 0;

const LOC = { lat: 30.6, lng: 119.7, coord_type: 'gcj02', accuracy_m: 20 };

function form(over) {
  return Object.assign(logic.initialForm(), { location: LOC, contactPhone: '13900001111' }, over || {});
}

describe('求助 logic', () => {
  test('needs a location or a village', () => {
    expect(logic.validateHelp(form({ location: null })).location).toBe('请允许获取位置，或选择所在村（社区）');
    expect(logic.validateHelp(form({ location: null, village: { code: '330523001201', name: 'x' } })).location).toBeUndefined();
  });

  test('for someone else: their name is required, phones are checked', () => {
    const errors = logic.validateHelp(form({ forSelf: false, subjectName: ' ', subjectPhone: '123', contactPhone: '999' }));
    expect(errors['subject.name']).toBe('请填写求助对象姓名');
    expect(errors['subject.phone']).toContain('格式不正确');
    expect(errors.contact_phone).toContain('格式不正确');
  });

  test('a contact phone may be left out only when a WeChat phone is bound', () => {
    expect(logic.validateHelp(form({ contactPhone: '' })).contact_phone).toBeTruthy();
    expect(logic.validateHelp(form({ contactPhone: '' }), { hasBoundPhone: true })).toEqual({});
  });

  test('body for someone else carries the subject, relation and gcj02 location', () => {
    const body = logic.buildHelpBody(form({
      forSelf: false, subjectName: '张大爷', subjectPhone: '0572-5123456', relation: '邻居', hardship: ['elderly_alone'], description: ' 独居 ', urgent: true,
    }), { clientId: 'c1', deviceId: 'd1' });
    expect(body).toEqual({
      client_id: 'c1',
      device_id: 'd1',
      for_self: false,
      quick: false,
      hardship: ['elderly_alone'],
      description: '独居',
      urgent: true,
      relation: '邻居',
      subject: { name: '张大爷', phone: '05725123456' },
      location: LOC,
      contact_phone: '13900001111',
    });
  });

  test('when the village was chosen the body has subject.village_code and no location', () => {
    const body = logic.buildHelpBody(form({ location: null, useVillage: true, village: { code: '330523001201' } }), { clientId: 'c', deviceId: 'd' });
    expect(body.subject).toEqual({ village_code: '330523001201' });
    expect(body.location).toBeUndefined();
  });

  test('the client_id of an unanswered send is reused only for the same content', () => {
    const sent = logic.buildHelpBody(form(), { clientId: 'old', deviceId: 'd' });
    const again = logic.buildHelpBody(form(), { clientId: '', deviceId: 'd' });
    expect(logic.clientIdFor(again, sent, () => 'new')).toBe('old');
    const edited = logic.buildHelpBody(form({ description: '改了' }), { clientId: '', deviceId: 'd' });
    expect(logic.clientIdFor(edited, sent, () => 'new')).toBe('new');
    expect(logic.clientIdFor(again, null, () => 'new')).toBe('new');
  });
});

describe('求助 page', () => {
  let control;
  beforeEach(() => {
    resetConfigCache();
    control = installFakeWx();
    control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
  });

  function serve(overrides) {
    control.respond((req) => {
      const p = req.url.replace(/^https?:\/\/[^/]+/, '');
      if (overrides && overrides[p]) return overrides[p](req);
      if (p === '/mp/v1/config') return { statusCode: 200, data: { hardship_tags: [{ key: 'disability', label: '残疾' }], subscribe_templates: { status: 'TPL-STATUS' } } };
      if (p === '/mp/v1/help-requests') return { statusCode: 201, data: { id: 'h1', number: '330523001-2026-00004' } };
      if (p === '/mp/v1/subscriptions') return { statusCode: 200, data: { remaining: 1 } };
      return { statusCode: 404, data: {} };
    });
  }

  test('tags come from GET /mp/v1/config; the built-in list is used when it fails', async () => {
    serve();
    const page = loadPage('resident/help').render({});
    await settle(10);
    expect(page.instance.data.tags).toEqual([{ key: 'disability', label: '残疾' }]);

    // offline: the last copy first, then the built-in list
    resetConfigCache();
    control.respond(() => ({ fail: 'request:fail' }));
    const offline = loadPage('resident/help').render({});
    await settle(10);
    expect(offline.instance.data.tags).toEqual([{ key: 'disability', label: '残疾' }]);

    resetConfigCache();
    control.storage.delete('yimen:config');
    const fresh = loadPage('resident/help').render({});
    await settle(10);
    expect(fresh.instance.data.tags.map((t) => t.key)).toContain('serious_illness');
    expect(fresh.instance.data.tags).toHaveLength(11);
  });

  test('location is asked in gcj02 on open; refused, it falls back to the village', async () => {
    serve();
    const page = loadPage('resident/help').render({});
    await settle(10);
    expect(control.calls.location[0].type).toBe('gcj02');
    expect(page.instance.data.form.useVillage).toBe(true);
    expect(page.querySelector('.hint').dom.textContent).toContain('请选择所在的村（社区）');
  });

  test('submit: consent asked first, then create, one upload per photo, then the subscription', async () => {
    serve();
    control.setLocation({ latitude: 30.6, longitude: 119.7, accuracy: 20 });
    control.answerSubscribe({ 'TPL-STATUS': 'accept' });
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData({
      'form.contactPhone': '13900001111',
      'form.photos': [{ path: 'tmp/1.jpg', client_photo_id: 'cp-1' }, { path: 'tmp/2.jpg', client_photo_id: 'cp-2' }],
    });
    control.order.length = 0;
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(30);

    expect(control.order).toEqual([
      'requestSubscribeMessage',
      'request POST /mp/v1/help-requests',
      'upload /mp/v1/help-requests/h1/photos',
      'upload /mp/v1/help-requests/h1/photos',
      'request POST /mp/v1/subscriptions',
    ]);
    expect(control.calls.subscribe[0]).toEqual(['TPL-STATUS']);
    const created = JSON.parse(control.requests.find((r) => /help-requests$/.test(r.url)).data);
    expect(created).toMatchObject({ for_self: true, quick: false, location: { coord_type: 'gcj02', lat: 30.6, lng: 119.7 }, contact_phone: '13900001111' });
    expect(control.uploads.map((u) => [u.name, u.formData.client_photo_id])).toEqual([['file', 'cp-1'], ['file', 'cp-2']]);
    expect(JSON.parse(control.requests.find((r) => /subscriptions$/.test(r.url)).data)).toEqual({ template_id: 'TPL-STATUS', accepted: true });
    expect(control.storage.get('yimen:resident:contact-phone')).toBe('13900001111');
    expect(control.calls.modal[0].content).toContain('330523001-2026-00004');
  });

  test('invalid form: no consent dialog, no request, messages under the fields', async () => {
    serve();
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData({ 'form.forSelf': false, 'form.contactPhone': '' });
    control.order.length = 0;
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(10);
    expect(control.order).toEqual([]);
    expect(page.querySelectorAll('.error').map((n) => n.dom.textContent)).toEqual(expect.arrayContaining(['请填写求助对象姓名', '请允许获取位置，或选择所在村（社区）']));
  });

  test('a content-flagged description comes back in the server words', async () => {
    serve({ '/mp/v1/help-requests': () => problem(422, 'content-flagged', '情况说明里有不允许发送的内容，请修改后再提交') });
    control.setLocation({ latitude: 30.6, longitude: 119.7, accuracy: 20 });
    const page = loadPage('resident/help').render({});
    await settle(10);
    page.instance.setData({ 'form.contactPhone': '13900001111' });
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(20);
    expect(control.calls.modal.pop()).toMatchObject({ title: '没有提交成功', content: '情况说明里有不允许发送的内容，请修改后再提交' });
    expect(control.uploads).toHaveLength(0);
  });
});
