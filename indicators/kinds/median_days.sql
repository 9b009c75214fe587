-- median_days: median of the days from data_richiesta to data_inizio of the records of $interventi
-- with the event in the year; records without data_richiesta are left out. denominatore = records used.
WITH anni AS (SELECT * FROM anni_finestra($anni, $as_of)),
righe AS (
    SELECT a.anno, p.comune, s.sub_ambito, date_diff('day', p.data_richiesta, p.data_inizio) AS giorni
    FROM prestazioni AS p
    JOIN anni AS a ON evento_in_anno($evento::VARCHAR, p.data_inizio, p.data_fine, a.d0, a.d1)
    LEFT JOIN sub_ambiti AS s ON s.comune = p.comune
    WHERE list_contains($interventi::VARCHAR[], p.intervento) AND p.data_richiesta IS NOT NULL
)
SELECT anno,
       CASE WHEN grouping(comune) = 0 THEN 'comune' WHEN grouping(sub_ambito) = 0 THEN 'sub_ambito'
            ELSE 'ambito' END AS livello,
       CASE WHEN grouping(comune) = 0 THEN comune WHEN grouping(sub_ambito) = 0 THEN sub_ambito
            ELSE 'AMBITO' END AS territorio,
       median(giorni)::DOUBLE AS valore,
       count(*)::DOUBLE AS denominatore
FROM righe
GROUP BY GROUPING SETS ((anno, comune), (anno, sub_ambito), (anno))
