const { installFakeWx, settle } = require('../helpers/fake-wx');
const { loadPage } = require('../helpers/page-harness');
const config = require('../../utils/config');
const mine = require('../../pages/mine/logic');
const item = require('../../resident/item/logic');
const { STATUS_TEXTS } = require('../../utils/statuses');
const windowLogic = require('../../resident/window/logic');

config.RETRY.baseDelayMs = 0;

const ITEM = (id, kind, extra) => Object.assign({
  kind, id, number: `N-${id}`, title: kind === 'help' ? '求助' : '最低生活保障申请', status: 'received', status_label: '已收到',
  created_at: '2026-05-01T01:00:00Z', updated_at: '2026-05-02T02:30:00Z',
}, extra || {});

let control;
beforeEach(() => {
  control = installFakeWx();
  control.storage.set('yimen:resident:auth', { access_token: 'A', refresh_token: 'R' });
});

const urlPath = (r) => r.url.replace(/^https?:\/\/[^/]+/, '');

describe('我的', () => {
  test('pages merge without repeats; a refresh replaces', () => {
    const first = mine.mergePage([], { items: [ITEM('1', 'help'), ITEM('2', 'application')], next_cursor: 'c2' }, true);
    expect(first).toMatchObject({ nextCursor: 'c2', done: false });
    expect(first.rows[1]).toMatchObject({ uid: 'application:2', kindLabel: '申请', statusLabel: '已收到', updated: '2026年5月2日 10:30', url: '/resident/item/index?kind=application&id=2' });
    const second = mine.mergePage(first.rows, { items: [ITEM('2', 'application'), ITEM('3', 'help')], next_cursor: null }, false);
    expect(second.rows.map((r) => r.uid)).toEqual(['help:1', 'application:2', 'help:3']);
    expect(second.done).toBe(true);
    expect(mine.mergePage(second.rows, { items: [ITEM('9', 'help')] }, true).rows.map((r) => r.uid)).toEqual(['help:9']);
  });

  test('loads with cursor paging and refreshes on pull-down', async () => {
    control.respond((req) => {
      const p = urlPath(req);
      if (p === '/mp/v1/items?limit=20') return { statusCode: 200, data: { items: [ITEM('1', 'help')], next_cursor: 'CUR' } };
      if (p === '/mp/v1/items?cursor=CUR&limit=20') return { statusCode: 200, data: { items: [ITEM('2', 'application')], next_cursor: null } };
      return { statusCode: 404, data: {} };
    });
    const page = loadPage('pages/mine').render({});
    await settle(6);
    expect(page.querySelectorAll('.mine__title').map((n) => n.dom.textContent)).toEqual(['求助']);

    page.instance.onReachBottom();
    await settle(6);
    expect(page.querySelectorAll('.mine__title').map((n) => n.dom.textContent)).toEqual(['求助', '最低生活保障申请']);
    page.instance.onReachBottom(); // done: no more requests
    await settle(6);

    page.instance.onPullDownRefresh();
    await settle(6);
    expect(control.requests.map(urlPath)).toEqual(['/mp/v1/items?limit=20', '/mp/v1/items?cursor=CUR&limit=20', '/mp/v1/items?limit=20']);
    expect(page.querySelectorAll('.mine__title')).toHaveLength(1);
  });

  test('back on the tab, the list is loaded again (not more than once per 10 s)', async () => {
    let items = [ITEM('1', 'help')];
    control.respond(() => ({ statusCode: 200, data: { items, next_cursor: null } }));
    let now = 1000000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const page = loadPage('pages/mine').render({});
      await settle(6);
      expect(control.requests).toHaveLength(1); // onLoad and the first onShow: one load

      items = [ITEM('2', 'help', { title: '新的求助' }), ITEM('1', 'help')];
      now += 3000;
      page.instance.onShow();
      await settle(6);
      expect(control.requests).toHaveLength(1);

      now += 8000;
      page.instance.onShow();
      await settle(6);
      expect(control.requests.map(urlPath)).toEqual(['/mp/v1/items?limit=20', '/mp/v1/items?limit=20']);
      expect(page.querySelectorAll('.mine__title').map((n) => n.dom.textContent)).toEqual(['新的求助', '求助']);
    } finally {
      clock.mockRestore();
    }
  });

  test('opened from a subscribe message with ?id=, it goes on to that item', async () => {
    control.respond(() => ({ statusCode: 200, data: { items: [ITEM('h7', 'help'), ITEM('a7', 'application')], next_cursor: null } }));
    loadPage('pages/mine').render({ id: 'a7' });
    await settle(6);
    expect(control.calls.navigate).toEqual(['/resident/item/index?kind=application&id=a7']);
  });
});

describe('事项详情', () => {
  test('detail path by kind; unknown kinds are refused', () => {
    expect(item.detailPath('help', 'h1')).toBe('/help-requests/h1');
    expect(item.detailPath('application', 'a1')).toBe('/applications/a1');
    expect(item.detailPath('other', 'x')).toBeNull();
  });

  test('status in plain words with what happens next, and the timeline', async () => {
    control.respond(() => ({
      statusCode: 200,
      data: ITEM('a1', 'application', {
        category_label: '最低生活保障', status: 'materials_requested', status_label: '需要补充材料',
        window: { name: '递铺街道社会救助窗口', address: '递铺街道胜利西路 1 号', phone: '0572-5123456' },
        applicant: { name: '李四', id_number: '330523********1234' },
        timeline: [
          { at: '2026-05-01T01:00:00Z', kind: 'received', message: '窗口已受理您的申请' },
          { at: '2026-05-08T01:00:00Z', kind: 'materials_requested', message: '请补充以下材料：户口簿复印件' },
        ],
      }),
    }));
    const page = loadPage('resident/item').render({ kind: 'application', id: 'a1' });
    await settle(6);
    expect(urlPath(control.requests[0])).toBe('/mp/v1/applications/a1');
    expect(page.querySelector('.item__status').dom.textContent).toBe('现在：需要补充材料');
    expect(page.querySelector('.item__next').dom.textContent).toBe(STATUS_TEXTS.application.materials_requested.next);
    const timeline = page.querySelector('.item__timeline');
    expect(timeline.querySelectorAll('.timeline__text').map((n) => n.dom.textContent)).toEqual(['最新：请补充以下材料：户口簿复印件', '窗口已受理您的申请']);
    page.querySelector('.btn--primary').dispatchEvent('tap');
    await settle(2);
    expect(control.calls.phone).toEqual(['0572-5123456']);
  });

  test('an accepted application shows its deadline and the working days left', async () => {
    control.respond(() => ({
      statusCode: 200,
      data: ITEM('a2', 'application', {
        category_label: '最低生活保障', status: 'accepted', status_label: '已受理',
        // 17:30 in Shanghai on 13 November 2026.
        decision_due_at: '2026-11-13T09:30:00+00:00', working_days_left: 12,
        deadline_extended: false,
        timeline: [],
      }),
    }));
    const page = loadPage('resident/item').render({ kind: 'application', id: 'a2' });
    await settle(6);
    expect(page.querySelector('.item__deadline').dom.textContent).toBe('审核期限：2026年11月13日，还有 12 个工作日');
    expect(item.deadlineText({ kind: 'application', decision_due_at: '2026-11-13T09:30:00+00:00', working_days_left: -2, deadline_extended: true }))
      .toBe('审核期限已过（2026年11月13日），可打电话问窗口进度。审核期限已依法延长');
    expect(item.deadlineText({ kind: 'application', decision_due_at: '2026-11-13T09:30:00+00:00', working_days_left: 0 }))
      .toBe('审核期限：今天（2026年11月13日）');
    expect(item.deadlineText({ kind: 'help', decision_due_at: '2026-11-13T09:30:00+00:00' })).toBe('');
    expect(item.deadlineText({ kind: 'application', decision_due_at: null })).toBe('');
  });

  test('another resident\'s item (404) reads as not found', async () => {
    control.respond(() => ({ statusCode: 404, data: { title: '没有找到', detail: '没有找到这条记录', status: 404 } }));
    const page = loadPage('resident/item').render({ kind: 'help', id: 'zz' });
    await settle(6);
    expect(page.querySelector('.error').dom.textContent).toBe('没有找到这条记录');
  });
});

describe('找窗口', () => {
  const WINDOW = {
    township: { code: '330523001', name: '递铺街道' },
    name: '递铺街道社会救助窗口',
    address: '胜利西路 1 号',
    opening_hours: '工作日 8:30-17:00',
    phone: '0572-5123456',
    complaint_phone: '0572-5120000',
    policies: ['最低生活保障', '临时救助'],
    duties: ['一门受理', '协同办理'],
    location: { lat: 30.63, lng: 119.68, coord_type: 'gcj02' },
  };

  test('query by location (gcj02) or by township', () => {
    expect(windowLogic.windowQuery({ location: { lat: 1, lng: 2, coord_type: 'gcj02' } })).toEqual({ lat: 1, lng: 2, coord_type: 'gcj02' });
    expect(windowLogic.windowQuery({ townshipCode: '330523001' })).toEqual({ township_code: '330523001' });
    expect(windowLogic.windowView(Object.assign({}, WINDOW, { location: null })).canNavigate).toBe(false);
  });

  test('by location: posted info, call and openLocation in gcj02', async () => {
    control.setLocation({ latitude: 30.6, longitude: 119.7, accuracy: 30 });
    control.respond(() => ({ statusCode: 200, data: WINDOW }));
    const page = loadPage('resident/window').render({});
    await settle(8);
    expect(urlPath(control.requests[0])).toBe('/mp/v1/windows/mine?lat=30.6&lng=119.7&coord_type=gcj02');
    expect(page.querySelectorAll('.window__item').map((n) => n.dom.textContent)).toEqual(['最低生活保障', '临时救助', '一门受理', '协同办理']);
    const buttons = page.querySelectorAll('.btn');
    buttons.find((b) => b.dom.textContent === '打电话 0572-5123456').dispatchEvent('tap');
    buttons.find((b) => b.dom.textContent === '投诉电话 0572-5120000').dispatchEvent('tap');
    buttons.find((b) => b.dom.textContent.indexOf('到窗口去') === 0).dispatchEvent('tap');
    await settle(2);
    expect(control.calls.phone).toEqual(['0572-5123456', '0572-5120000']);
    expect(control.calls.openLocation).toEqual([{ latitude: 30.63, longitude: 119.68, name: '递铺街道社会救助窗口', address: '胜利西路 1 号', scale: 16 }]);
  });

  test('no township for the point (404): the township picker opens, and its choice is asked for', async () => {
    control.setLocation({ latitude: 10, longitude: 10, accuracy: 30 });
    control.respond((req) => {
      const p = urlPath(req);
      if (p.indexOf('/mp/v1/windows/mine?lat=') === 0) return { statusCode: 404, data: { title: '没有找到', status: 404 } };
      if (p === '/mp/v1/windows/mine?township_code=330523100') return { statusCode: 200, data: WINDOW };
      return { statusCode: 200, data: { items: [] } };
    });
    const page = loadPage('resident/window').render({});
    await settle(8);
    expect(page.instance.data.pickerOpen).toBe(true);
    expect(page.querySelector('.hint').dom.textContent).toContain('请手动选择乡镇（街道）');
    page.instance.onTownship({ detail: { code: '330523100000', name: '孝丰镇', level: 'township' } });
    await settle(8);
    expect(control.requests.map(urlPath)).toContain('/mp/v1/windows/mine?township_code=330523100');
    expect(page.querySelector('.section-title').dom.textContent).toBe('递铺街道社会救助窗口');
  });
});
