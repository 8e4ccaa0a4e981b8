import { similarPatterns } from './similar';

describe('similarPatterns (same_name_similar_point)', () => {
  it('masks the last two digits of a phone and keeps an e-mail local part', () => {
    expect(
      similarPatterns([
        { type: 'phone', value: '+79991234567', digits: '79991234567' },
        { type: 'email', value: 'ivan_p@mail.ru', digits: null },
        { type: 'social', value: 'telegram:ivan', digits: null },
      ]),
    ).toEqual({ phoneDigits: ['799912345__'], emails: ['ivan\\_p@%'] });
  });
  it('skips short numbers', () => expect(similarPatterns([{ type: 'phone', value: '+12345', digits: '12345' }]).phoneDigits).toEqual([]));
});
