/**
 * Name lists for the contacts benchmarks' seeder (test/bench/contacts-seed.ts): Russian first names,
 * patronymics and surnames in both genders, English first and last names, and a transliteration for
 * e-mail local parts. Deterministic, so a seeded database and the benchmark's queries agree.
 */
import { searchName } from '../../services/contacts/src/domain/contact';

const RU_MALE = 'Александр Алексей Андрей Антон Артём Борис Вадим Валерий Василий Виктор Владимир Владислав Вячеслав Геннадий Георгий Григорий Денис Дмитрий Евгений Егор Иван Игорь Илья Кирилл Константин Леонид Максим Михаил Никита Николай Олег Павел Пётр Роман Руслан Сергей Станислав Степан Тимур Фёдор Юрий Ярослав'.split(' ');
const RU_FEMALE = 'Александра Алёна Алина Алла Анастасия Анна Валентина Валерия Вера Виктория Галина Дарья Диана Евгения Екатерина Елена Елизавета Жанна Зоя Инна Ирина Карина Кристина Ксения Лариса Любовь Людмила Маргарита Марина Мария Надежда Наталья Нина Оксана Ольга Полина Светлана София Татьяна Юлия Яна'.split(' ');
const RU_PATRONYMIC_M = 'Александрович Алексеевич Андреевич Антонович Борисович Вадимович Викторович Владимирович Дмитриевич Евгеньевич Игоревич Иванович Константинович Максимович Михайлович Николаевич Олегович Павлович Петрович Романович Сергеевич Юрьевич'.split(' ');
const RU_SURNAME_M = (
  'Иванов Смирнов Кузнецов Попов Васильев Петров Соколов Михайлов Новиков Фёдоров Морозов Волков Алексеев Лебедев Семёнов Егоров Павлов Козлов ' +
  'Степанов Николаев Орлов Андреев Макаров Никитин Захаров Зайцев Соловьёв Борисов Яковлев Григорьев Романов Воробьёв Сергеев Кузьмин Фролов ' +
  'Александров Дмитриев Королёв Гусев Киселёв Ильин Максимов Поляков Сорокин Виноградов Ковалёв Белов Медведев Антонов Тарасов Жуков Баранов ' +
  'Филиппов Комаров Давыдов Беляев Герасимов Богданов Осипов Сидоров Матвеев Титов Марков Миронов Крылов Куликов Карпов Власов Мельников Денисов ' +
  'Гаврилов Тихонов Казаков Афанасьев Данилов Савельев Тимофеев Фомин Чернов Абрамов Мартынов Ефимов Федотов Щербаков Назаров Калинин Исаев ' +
  'Чернышёв Быков Маслов Родионов Коновалов Лазарев Воронин Климов Филатов Пономарёв Голубев Кудрявцев Прохоров Наумов Потапов Журавлёв ' +
  'Овчинников Трофимов Леонов Соболев Ермаков Колесников Гончаров Емельянов Никифоров Грачёв Котов Гришин Ефремов Архипов Громов Кириллов ' +
  'Малышев Панов Моисеев Румянцев Акимов Кондратьев Бирюков Горбунов Анисимов Ерёмин Тихомиров Галкин Лукьянов Михеев Скворцов Юдин Белоусов ' +
  'Нестеров Симонов Прокофьев Харитонов Князев Цветков Левин Митрофанов Воронцов Аксёнов Мальцев Логинов Горшков Савин Краснов Майоров Демидов ' +
  'Елисеев Рыбаков Сафонов Плотников Хохлов Фадеев Молчанов Игнатов Литвинов Ершов Ушаков Рябов Мухин Калашников Лобанов Корнилов Бородин ' +
  'Платонов Некрасов Балашов Бобров Жданов Блинов Коротков Муравьёв Крюков Дроздов Лавров Зуев Петухов Ларин Никулин Серов Зотов Устинов Фокин ' +
  'Самойлов Сахаров Шишкин Черкасов Чистяков Носов Спиридонов Авдеев Зимин Вишневский Островский Полянский Залесский Шевченко Бондаренко Коваленко Ким Цой'
).split(' ');

const EN_FIRST = (
  'James John Robert Michael William David Richard Joseph Thomas Charles Christopher Daniel Matthew Anthony Mark Donald Steven Paul Andrew Joshua ' +
  'Kenneth Kevin Brian George Timothy Ronald Edward Jason Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin Scott Brandon ' +
  'Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty Margaret Sandra Ashley Kimberly Emily Donna Michelle ' +
  'Carol Amanda Dorothy Melissa Deborah Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma Nicole Helen'
).split(' ');
const EN_LAST = (
  'Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson Anderson Thomas Taylor Moore Jackson ' +
  'Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres Nguyen Hill Flores ' +
  'Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes ' +
  'Stewart Morris Morales Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos Kim Cox Ward Richardson ' +
  'Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell ' +
  'Jenkins Perry Russell Sullivan Bell Coleman Butler Henderson Barnes Gonzales Fisher Vasquez Simmons Romero Jordan Patterson Alexander Hamilton'
).split(' ');

function femaleSurname(s: string): string {
  if (/(ов|ев|ёв|ин|ын)$/.test(s)) return `${s}а`;
  if (s.endsWith('ский')) return `${s.slice(0, -4)}ская`;
  return s; // Шевченко, Ким, Цой
}
const femalePatronymic = (p: string) => p.replace(/ич$/, 'на');

const TRANSLIT: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p',
  р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya',
};
export function translit(s: string): string {
  return [...s.toLowerCase()].map((c) => TRANSLIT[c] ?? c).join('');
}

/**
 * How contacts.search_name is filled from a name: the service's own rule (lower-cased in JavaScript,
 * ё read as е, whitespace collapsed; services/contacts/src/domain/contact.ts), so seeded rows are found
 * as the service's are. The benchmark also checks this against a contact the service itself created.
 */
export const searchNameOf = (name: string): string => searchName(name) ?? '';

export interface NameLists {
  /** Russian: [male, female] first names, patronymics and surnames (index i of male and female lists pair up by gender only). */
  ruFirst: [string[], string[]];
  ruPatronymic: [string[], string[]];
  ruSurname: [string[], string[]];
  enFirst: string[];
  enLast: string[];
}

export const NAMES: NameLists = {
  ruFirst: [RU_MALE, RU_FEMALE],
  ruPatronymic: [RU_PATRONYMIC_M, RU_PATRONYMIC_M.map(femalePatronymic)],
  ruSurname: [RU_SURNAME_M, RU_SURNAME_M.map(femaleSurname)],
  enFirst: EN_FIRST,
  enLast: EN_LAST,
};
