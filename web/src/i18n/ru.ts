/**
 * Russian texts: the reference dictionary. Its keys are the `MessageKey` type; en.ts must have exactly
 * the same keys (the compiler checks it). `{name}` marks a value filled in by `t(key, { name })`.
 * The contacts section's texts are in features/contacts/i18n.ts, spread in at the end.
 */
import { contactsRu } from '../features/contacts/i18n';
import { workRu } from '../features/work/i18n';
import { settingsRu } from '../features/settings/i18n';
import { securityRu } from '../features/security/i18n';
import { funnelRu } from '../features/funnel/i18n';
import { telephonyRu } from '../features/telephony/i18n';

export const ru = {
  'app.name': 'Продажи 2.0',
  'app.loading': 'Загрузка…',
  'app.skip': 'Перейти к содержимому',

  'header.nav': 'Разделы',
  'header.journal': 'Журнал обращений',
  'header.tenant': 'Компания',
  'header.language': 'Язык интерфейса',
  'header.logout': 'Выйти',
  'header.reports': 'Отчёт',
  'header.settings': 'Настройки',
  'header.timeZone': 'Часовой пояс компании: {zone}. Все время показано в нём.',

  'login.title': 'Вход',
  'login.tenant': 'Компания (код)',
  'login.tenantHint': 'Короткий код компании, например acme',
  'login.email': 'E-mail',
  'login.password': 'Пароль',
  'login.submit': 'Войти',
  'login.busy': 'Входим…',
  'login.badCredentials': 'Неверная компания, e-mail или пароль',

  'error.network': 'Нет связи с сервером. Проверьте подключение и повторите.',
  'error.generic': 'Что-то пошло не так',
  'error.retry': 'Повторить',

  'journal.title': 'Журнал обращений',
  'journal.filters': 'Фильтры',
  'journal.state': 'Состояние',
  'journal.channel': 'Канал',
  'journal.all': 'все',
  'journal.selected': 'выбрано: {n}',
  'journal.from': 'С даты',
  'journal.to': 'По дату',
  'journal.search': 'Поиск',
  'journal.searchPlaceholder': 'Имя, телефон или e-mail',
  'journal.reset': 'Сбросить фильтры',
  'journal.caption': 'Обращения, новые сверху',
  'journal.col.created': 'Создано',
  'journal.col.channel': 'Канал',
  'journal.col.name': 'Имя',
  'journal.col.phone': 'Телефон',
  'journal.col.email': 'E-mail',
  'journal.col.state': 'Состояние',
  'journal.col.number': 'Первичность',
  'journal.col.utmSource': 'UTM source',
  'journal.col.comments': 'Комментарии',
  'journal.noName': 'Без имени',
  'journal.empty': 'Обращений нет',
  'journal.emptyFiltered': 'Нет обращений, подходящих под фильтры',
  'journal.loadMore': 'Показать ещё',
  'journal.loading': 'Загружаем обращения…',
  'journal.shown': 'Показано: {n}',
  'journal.newArrived': 'Новое обращение: {name}',
  'journal.live.open': 'Обновляется онлайн',
  'journal.live.connecting': 'Подключаемся…',
  'journal.live.closed': 'Нет онлайн-обновлений, переподключаемся…',

  'request.back': '← К журналу',
  'request.title': 'Обращение',
  'request.axes': 'Классификация',
  'request.state': 'Состояние',
  'request.contact': 'Контакт',
  'request.name': 'Имя',
  'request.phone': 'Телефон',
  'request.email': 'E-mail',
  'request.message': 'Сообщение',
  'request.noMessage': 'Без сообщения',
  'request.attribution': 'Источник (атрибуция)',
  'request.landingPage': 'Посадочная страница',
  'request.referrer': 'Реферер',
  'request.created': 'Создано',
  'request.id': 'Идентификатор',
  'request.notFound': 'Обращение не найдено',
  'request.loading': 'Загружаем обращение…',
  'request.extraFields': 'Другие поля формы',
  'request.extraFieldsTruncated': 'Часть полей не сохранена полностью: их было слишком много или они слишком длинные.',

  'comments.title': 'Комментарии',
  'comments.empty': 'Комментариев пока нет',
  'comments.you': 'Вы',
  'comments.colleague': 'Сотрудник {id}',
  'comments.new': 'Новый комментарий',
  'comments.add': 'Добавить комментарий',
  'comments.busy': 'Сохраняем…',
  'comments.required': 'Введите текст комментария',
  'comments.tooLong': 'Не более {max} символов (сейчас {n})',
  'comments.counter': '{n} / {max}',

  'notFound.title': 'Страница не найдена',
  'notFound.back': 'Открыть журнал',

  'settings.title': 'Настройки компании',
  'settings.timeZone': 'Часовой пояс',
  'settings.timeZoneHint': 'В этом поясе отчёты считают дни, и в нём показано время в журнале и в обращениях.',
  'settings.adminOnly': 'изменить его может администратор',
  'settings.save': 'Сохранить',
  'settings.saving': 'Сохранение…',
  'settings.saved': 'Сохранено: {zone}',

  'report.title': 'Обращения по дням',
  'report.zone': 'Дни считаются по часовому поясу {zone}',
  'report.day': 'День',
  'report.requests': 'Обращений',
  'report.byChannel': 'По каналам',
  'report.empty': 'За эти дни обращений нет',

  'empty': '—',

  'axis.number': 'По первичности',
  'axis.meaning': 'По смыслу',
  'axis.contact': 'По контакту',
  'axis.qualification': 'По квалификации',
  'axis.channel': 'По каналу',

  'number.primary': 'Первичное',
  'number.repeat': 'Повторное',
  'number.unspecified': 'Не определено',
  'meaning.unknown': 'Не определён',
  'meaning.targeted': 'Целевое',
  'meaning.non_targeted': 'Нецелевое',
  'meaning.unspecified': 'Не определено',
  'contact.none': 'Нет контакта',
  'contact.unverified': 'Не подтверждён',
  'contact.verified': 'Подтверждён',
  'contact.unspecified': 'Не определено',
  'qualification.pending': 'Ожидает квалификации',
  'qualification.lead': 'Лид',
  'qualification.not_lead': 'Не лид',
  'qualification.unspecified': 'Не определено',

  'state.new': 'Новое',
  'state.assigned': 'Назначено',
  'state.in_progress': 'В работе',
  'state.converted': 'Сделка создана',
  'state.attached': 'Прикреплено',
  'state.deferred': 'Отложено',
  'state.trash': 'В корзине',
  'state.closed': 'Закрыто',

  'channel.phone': 'Телефон',
  'channel.chat': 'Чат',
  'channel.email': 'E-mail',
  'channel.signup': 'Регистрация',
  'channel.web_form': 'Веб-форма',
  'channel.unspecified': 'Не определён',

  ...contactsRu,

  // Working the request (features/work/i18n.ts).
  ...workRu,
  ...settingsRu,
  ...securityRu,
  ...funnelRu,
  ...telephonyRu,
};

export type MessageKey = keyof typeof ru;
export type Dictionary = Record<MessageKey, string>;
