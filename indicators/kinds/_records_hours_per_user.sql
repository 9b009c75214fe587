-- hours_per_user: hours of $interventi delivered in the year per distinct person with a record active
-- in the year. The hours of a record are spread evenly over its days (an open record runs to $as_of),
-- and the year takes the days of the record that fall in its window.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
record AS (
    SELECT p.*, coalesce(p.data_fine, greatest($as_of::DATE, p.data_inizio)) AS fine_eff
    FROM prestazioni AS p
    WHERE list_contains($interventi::VARCHAR[], p.intervento)
),
righe AS (
    SELECT a.anno, r.comune, s.sub_ambito, r.persona_id,
           coalesce(r.ore, 0) * greatest(date_diff('day', greatest(r.data_inizio, a.d0), least(r.fine_eff, a.d1)) + 1, 0)
               / (date_diff('day', r.data_inizio, r.fine_eff) + 1) AS ore_anno
    FROM record AS r
    JOIN anni AS a ON evento_in_anno('attivo', r.data_inizio, r.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = r.comune
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       sum(ore_anno)::DOUBLE AS numeratore,
       count(DISTINCT persona_id)::DOUBLE AS denominatore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
