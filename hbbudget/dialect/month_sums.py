"""The triggers that keep `expendituremonth` (spending per budget line and month) equal to the expenditures, in the
booking's own transaction, whatever code writes them (migration 0016_analysis_month_sums). One set per dialect;
a database without a set here cannot run the migration, and says so."""

# SQLite keeps a DATE as 'YYYY-MM-DD' text
_Y = "CAST(substr({r}.spent_on, 1, 4) AS INTEGER)"
_M = "CAST(substr({r}.spent_on, 6, 2) AS INTEGER)"
_UPSERT = ("ON CONFLICT (spent_year, budget_line_id, spent_month) DO UPDATE "
           "SET amount = expendituremonth.amount + excluded.amount")

SQLITE = [
    f"""CREATE TRIGGER expendituremonth_insert AFTER INSERT ON expenditure WHEN NEW.kind != 'frozen'
BEGIN
  INSERT INTO expendituremonth (budget_line_id, spent_year, spent_month, amount)
  VALUES (NEW.budget_line_id, {_Y.format(r='NEW')}, {_M.format(r='NEW')}, NEW.amount) {_UPSERT};
END""",
    f"""CREATE TRIGGER expendituremonth_delete AFTER DELETE ON expenditure WHEN OLD.kind != 'frozen'
BEGIN
  UPDATE expendituremonth SET amount = amount - OLD.amount WHERE budget_line_id = OLD.budget_line_id
    AND spent_year = {_Y.format(r='OLD')} AND spent_month = {_M.format(r='OLD')};
END""",
    f"""CREATE TRIGGER expendituremonth_update AFTER UPDATE OF budget_line_id, amount, spent_on, kind ON expenditure
BEGIN
  UPDATE expendituremonth SET amount = amount - OLD.amount WHERE OLD.kind != 'frozen'
    AND budget_line_id = OLD.budget_line_id AND spent_year = {_Y.format(r='OLD')} AND spent_month = {_M.format(r='OLD')};
  INSERT INTO expendituremonth (budget_line_id, spent_year, spent_month, amount)
  SELECT NEW.budget_line_id, {_Y.format(r='NEW')}, {_M.format(r='NEW')}, NEW.amount WHERE NEW.kind != 'frozen'
  {_UPSERT};
END""",
]

POSTGRESQL = [
    f"""CREATE FUNCTION expendituremonth_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND OLD.kind <> 'frozen' THEN
    UPDATE expendituremonth SET amount = amount - OLD.amount WHERE budget_line_id = OLD.budget_line_id
      AND spent_year = EXTRACT(YEAR FROM OLD.spent_on)::int AND spent_month = EXTRACT(MONTH FROM OLD.spent_on)::int;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND NEW.kind <> 'frozen' THEN
    INSERT INTO expendituremonth (budget_line_id, spent_year, spent_month, amount)
    VALUES (NEW.budget_line_id, EXTRACT(YEAR FROM NEW.spent_on)::int, EXTRACT(MONTH FROM NEW.spent_on)::int,
            NEW.amount) {_UPSERT};
  END IF;
  RETURN NULL;
END $$""",
    """CREATE TRIGGER expendituremonth_sync AFTER INSERT OR UPDATE OR DELETE ON expenditure
FOR EACH ROW EXECUTE FUNCTION expendituremonth_sync()""",
]

BACKFILL = {
    "sqlite": f"""INSERT INTO expendituremonth (budget_line_id, spent_year, spent_month, amount)
SELECT e.budget_line_id, {_Y.format(r='e')}, {_M.format(r='e')}, SUM(e.amount) FROM expenditure e
WHERE e.kind != 'frozen' GROUP BY 1, 2, 3""",
    "postgresql": """INSERT INTO expendituremonth (budget_line_id, spent_year, spent_month, amount)
SELECT e.budget_line_id, EXTRACT(YEAR FROM e.spent_on)::int, EXTRACT(MONTH FROM e.spent_on)::int, SUM(e.amount)
FROM expenditure e WHERE e.kind <> 'frozen' GROUP BY 1, 2, 3""",
}


def create(name: str) -> list[str]:
    """Backfill from the expenditures there are, then the triggers."""
    if name == "postgresql":
        return [BACKFILL["postgresql"], *POSTGRESQL]
    if name == "sqlite":
        return [BACKFILL["sqlite"], *SQLITE]
    raise NotImplementedError(f"月度支出汇总的触发器尚未为数据库 {name} 编写（hbbudget/dialect/month_sums.py）")


def drop(name: str) -> list[str]:
    if name == "postgresql":
        return ["DROP TRIGGER IF EXISTS expendituremonth_sync ON expenditure",
                "DROP FUNCTION IF EXISTS expendituremonth_sync()"]
    return [f"DROP TRIGGER IF EXISTS expendituremonth_{t}" for t in ("insert", "delete", "update")]
