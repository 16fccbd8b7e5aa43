// Bodies exactly as the mini-program's pages build them, for the backend's contract test
// (tests/mp/test_contract.py posts each one to the real API). Input: one JSON argument
// {location, village, villages, applicant_id, member_id_15, now}; output: JSON on stdout.
const help = require('../resident/help/logic');
const apply = require('../resident/apply/logic');
const home = require('../pages/home/logic');
const report = require('../worker/report/logic');

const input = JSON.parse(process.argv[2]);
let n = 0;
const ids = () => {
  n += 1;
  return `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
};
const today = new Date(input.now);

function helpForm(changes) {
  return Object.assign(help.initialForm({}), changes);
}

const bodies = {
  quick_location: home.buildQuickHelp({
    clientId: ids(), deviceId: 'mp-contract', location: input.location, contactPhone: '139 0572 0001',
  }),
  quick_village: home.buildQuickHelp({ clientId: ids(), deviceId: 'mp-contract', villageCode: input.village }),
  help_self: help.buildHelpBody(helpForm({
    hardship: ['serious_illness'],
    description: '老伴住院，医药费负担很重',
    contactPhone: '13905720001',
    location: input.location,
  }), { clientId: ids(), deviceId: 'mp-contract' }),
  help_other_by_village: help.buildHelpBody(helpForm({
    forSelf: false,
    subjectName: '隔壁张奶奶',
    subjectPhone: '0572-5123456',
    relation: '邻居',
    hardship: ['elderly_alone'],
    description: '独居，腿脚不便',
    contactPhone: '13905720001',
    village: { code: input.village, name: '村' },
    useVillage: true,
  }), { clientId: ids(), deviceId: 'mp-contract' }),
  application: apply.buildApplicationBody(Object.assign(apply.initialForm(), {
    category: 'dibao',
    applicant: { name: '李建国', id_number: input.applicant_id, phone: '13905720002' },
    members: [{ name: '张桂兰', id_number: input.member_id_15, relation: 'spouse' }],
    income: '860.5',
    houseCount: '1',
    carCount: '0',
    savings: '2000',
    assetsNote: '自建房一处',
    reason: '年老多病',
    hukouVillage: { code: input.village, name: '村' },
    consent: true,
    signedName: '李建国',
  }), { clientId: ids(), deviceId: 'mp-contract', today }),
  report: report.buildReportBody(Object.assign(report.initialReport(input.villages), {
    name: '赵某',
    phone: '13812345678',
    hardship: ['no_income'],
    description: '无收入来源',
    location: input.location,
    villageIndex: 0,
  }), { clientId: ids(), villages: input.villages, now: today, today }),
};

process.stdout.write(JSON.stringify(bodies));
