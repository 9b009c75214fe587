-- hours_per_user: hours of $interventi delivered in the year per distinct person with a record active
-- in the year. The hours of a record are spread evenly over its days (an open record runs to $as_of),
-- and the year takes the days of the record that fall in its window. The hours come from the records,
-- the persons from the person-years (etl/person_years.py and distinct_units_rate.sql);
-- `_records_hours_per_user.sql` counts the persons from the records too.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
record AS (
    SELECT p.*, coalesce(p.data_fine, greatest($as_of::DATE, p.data_inizio)) AS fine_eff
    FROM prestazioni AS p
    WHERE list_contains($interventi::VARCHAR[], p.intervento)
),
righe AS (
    SELECT a.anno, r.comune, s.sub_ambito,
           coalesce(r.ore, 0) * greatest(date_diff('day', greatest(r.data_inizio, a.d0), least(r.fine_eff, a.d1)) + 1, 0)
               / (date_diff('day', r.data_inizio, r.fine_eff) + 1) AS ore_anno
    FROM record AS r
    JOIN anni AS a ON evento_in_anno('attivo', r.data_inizio, r.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = r.comune
),
ore AS (
    SELECT anno,
           CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
                ELSE 'ambito' END AS livello,
           CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
                ELSE 'AMBITO' END AS territorio,
           sum(ore_anno)::DOUBLE AS numeratore
    FROM righe
    GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
),
persone AS (
    SELECT a.anno, r.comune, s.sub_ambito, r.persona_key
    FROM persone_anni AS r
    JOIN anni AS a ON a.anno = r.anno
    LEFT JOIN sub_ambiti AS s ON s.comune = r.comune
    WHERE list_contains($interventi::VARCHAR[], r.intervento)
      AND r.anno BETWEEN list_min($anni::INTEGER[]) AND list_max($anni::INTEGER[])
      AND r.attivo_dal <= a.d1
),
utenti AS (
    SELECT anno,
           CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
                ELSE 'ambito' END AS livello,
           CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
                ELSE 'AMBITO' END AS territorio,
           count(DISTINCT persona_key)::DOUBLE AS denominatore
    FROM persone
    GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
)
SELECT o.anno, o.livello, o.territorio, o.numeratore, u.denominatore
FROM ore AS o JOIN utenti AS u USING (anno, livello, territorio)
